/**
 * Library defaults that the commands' help texts show, spelled out here so that defining the
 * commands (every `scones` start, `--help` included) loads none of the libraries: they bring in
 * TensorFlow.js, the AWS SDK and the local stack. library-defaults.spec.ts checks that they agree.
 */

/** `DEFAULT_CLASSES` of @scones/cifar-decoder, comma-separated. */
export const DEFAULT_CLASS_LIST = 'bicycle,motorcycle';

/** `DEFAULT_CACHE_DIRECTORY` of @scones/cifar-decoder. */
export const DEFAULT_CACHE_DIR = '.scones/cache';

/** The epochs of @scones/image-classifier's `TRAINING_PRESETS`. */
export const PRESET_EPOCHS = { full: 40, quick: 8 } as const;

/** `DEFAULT_STACK_NAME` of @scones/local-cloud. */
export const DEFAULT_STACK = 'SconesStack';
