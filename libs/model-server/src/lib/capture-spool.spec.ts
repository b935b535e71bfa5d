import { recordTime, segmentFileId } from './capture-spool';

describe('capture spool keys and records', () => {
  it('derives the same UUID for the same segment and file index, another for any other', () => {
    const id = segmentFileId('001765000000000-6ece5c74-7497-43f1-a34f-2a15c8ae4bfe', 0);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(segmentFileId('001765000000000-6ece5c74-7497-43f1-a34f-2a15c8ae4bfe', 0)).toBe(id);
    expect(segmentFileId('001765000000000-6ece5c74-7497-43f1-a34f-2a15c8ae4bfe', 1)).not.toBe(id);
    expect(segmentFileId('001765000000001-6ece5c74-7497-43f1-a34f-2a15c8ae4bfe', 0)).not.toBe(id);
  });

  it('reads the inference time of a whole record line and refuses anything else', () => {
    const line =
      '{"captureData":{"endpointInput":{"observedContentType":"image/png","mode":"INPUT","data":"iVBORw0KGgo=","encoding":"BASE64"},' +
      '"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"[0.98,0.02]","encoding":"JSON"}},' +
      '"eventMetadata":{"eventId":"6ece5c74-7497-43f1-a34f-2a15c8ae4bfe","inferenceTime":"2026-11-22T22:49:05.123Z","inferenceId":"\\"inferenceTime\\":\\"x"},"eventVersion":"0"}';
    expect(recordTime(line)).toEqual(new Date('2026-11-22T22:49:05.123Z'));
    expect(recordTime(line.slice(0, 120))).toBeUndefined(); // torn by a kill
    expect(recordTime('{"captureData":{},"eventMetadata":{"inferenceTime":"yesterday"}}')).toBeUndefined();
    expect(recordTime('not json at all')).toBeUndefined();
  });
});
