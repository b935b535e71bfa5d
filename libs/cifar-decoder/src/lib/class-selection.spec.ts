import { UnknownClassError } from '../errors';
import { CIFAR100_FINE_LABEL_NAMES } from './cifar100-labels';
import { checkCifar100Classes, checkClassList, parseClassList, selectClasses } from './class-selection';

describe('selectClasses', () => {
  it('maps names to labels 0..n-1 in the order given', () => {
    const s = selectClasses(CIFAR100_FINE_LABEL_NAMES, ['motorcycle', 'bicycle']);
    expect(s.names).toEqual(['motorcycle', 'bicycle']);
    expect(s.fineLabels).toEqual([48, 8]);
    expect(s.labelOfFine[48]).toBe(0);
    expect(s.labelOfFine[8]).toBe(1);
    expect(s.labelOfFine[0]).toBe(-1);
  });

  it('takes any list, e.g. all ten vehicle classes', () => {
    const vehicles = ['bicycle', 'bus', 'motorcycle', 'pickup_truck', 'train', 'lawn_mower', 'rocket', 'streetcar', 'tank', 'tractor'];
    const s = selectClasses(CIFAR100_FINE_LABEL_NAMES, vehicles);
    expect(s.fineLabels.map((f) => CIFAR100_FINE_LABEL_NAMES[f])).toEqual(vehicles);
    expect(Array.from(s.labelOfFine).filter((l) => l >= 0).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('names an unknown class and suggests the closest', () => {
    expect(() => selectClasses(CIFAR100_FINE_LABEL_NAMES, ['bicycle', 'motorbike'])).toThrow(UnknownClassError);
    expect(() => selectClasses(CIFAR100_FINE_LABEL_NAMES, ['bicyle'])).toThrow(/^unknown class "bicyle" \(did you mean "bicycle"\?\); the archive's 100 fine labels are: apple, /);
    expect(() => selectClasses(['a', 'b'], ['zebra'])).toThrow('unknown class "zebra"; the archive\'s 2 fine labels are: a, b');
  });

  it('rejects an empty list and duplicates', () => {
    expect(() => checkClassList([])).toThrow('no classes chosen');
    expect(() => selectClasses(CIFAR100_FINE_LABEL_NAMES, ['bus', 'train', 'bus'])).toThrow('class "bus" is listed twice');
  });
});

describe('parseClassList', () => {
  it('splits and trims', () => {
    expect(parseClassList('bicycle, motorcycle')).toEqual(['bicycle', 'motorcycle']);
    expect(() => parseClassList('bicycle,,bus')).toThrow('class list "bicycle,,bus": empty class name');
  });
});

describe('checkCifar100Classes', () => {
  it("checks names against CIFAR-100's fine labels before any archive is read", () => {
    expect(checkCifar100Classes(['motorcycle', 'bicycle']).fineLabels).toEqual([48, 8]);
    expect(() => checkCifar100Classes(['bicyle', 'bus'])).toThrow(/^unknown class "bicyle" \(did you mean "bicycle"\?\); CIFAR-100's 100 fine labels are: apple, /);
    expect(() => checkCifar100Classes(['bus', 'bus'])).toThrow(new UnknownClassError('class "bus" is listed twice'));
    expect(() => checkCifar100Classes([])).toThrow(UnknownClassError);
  });
});
