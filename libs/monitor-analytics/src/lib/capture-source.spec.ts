import { fileMayOverlapWindow, MAX_CAPTURE_FILE_SPAN_MS } from './capture-source';

const t = (iso: string) => new Date(iso);
const window = { since: t('2026-03-01T10:00:00Z'), until: t('2026-03-01T11:00:00Z') };

describe('fileMayOverlapWindow', () => {
  it('keeps a file whose records [opened, last modified] can meet the window', () => {
    expect(fileMayOverlapWindow({ time: t('2026-03-01T08:00:00Z'), lastModified: t('2026-03-01T10:30:00Z') }, window)).toBe(true);
    expect(fileMayOverlapWindow({ time: t('2026-03-01T10:59:00Z'), lastModified: t('2026-03-01T12:00:00Z') }, window)).toBe(true);
  });
  it('skips files closed before the window or opened after it, with five minutes of clock slack', () => {
    expect(fileMayOverlapWindow({ time: t('2026-03-01T08:00:00Z'), lastModified: t('2026-03-01T09:50:00Z') }, window)).toBe(false);
    expect(fileMayOverlapWindow({ time: t('2026-03-01T08:00:00Z'), lastModified: t('2026-03-01T09:56:00Z') }, window)).toBe(true);
    expect(fileMayOverlapWindow({ time: t('2026-03-01T11:05:00Z') }, window)).toBe(false);
    expect(fileMayOverlapWindow({ time: t('2026-03-01T11:04:00Z') }, window)).toBe(true);
  });
  it('assumes a file without modification time stays open at most a day', () => {
    const justInside = new Date(window.since.getTime() - MAX_CAPTURE_FILE_SPAN_MS);
    expect(fileMayOverlapWindow({ time: justInside }, window)).toBe(true);
    expect(fileMayOverlapWindow({ time: new Date(justInside.getTime() - 6 * 60_000) }, window)).toBe(false);
    expect(fileMayOverlapWindow({ time: t('2020-01-01T00:00:00Z') }, {})).toBe(true);
  });
});
