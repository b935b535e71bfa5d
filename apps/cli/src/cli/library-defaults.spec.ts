import { DEFAULT_CACHE_DIRECTORY, DEFAULT_CLASSES } from '@scones/cifar-decoder';
import { TRAINING_PRESETS } from '@scones/image-classifier';
import { DEFAULT_STACK_NAME } from '@scones/local-cloud';
import { DEFAULT_CACHE_DIR, DEFAULT_CLASS_LIST, DEFAULT_STACK, PRESET_EPOCHS } from './library-defaults';

describe('the library defaults the help texts show', () => {
  it('agree with the libraries', () => {
    expect(DEFAULT_CLASS_LIST).toBe(DEFAULT_CLASSES.join(','));
    expect(DEFAULT_CACHE_DIR).toBe(DEFAULT_CACHE_DIRECTORY);
    expect(PRESET_EPOCHS).toEqual({ full: TRAINING_PRESETS.full.epochs, quick: TRAINING_PRESETS.quick.epochs });
    expect(DEFAULT_STACK).toBe(DEFAULT_STACK_NAME);
  });
});
