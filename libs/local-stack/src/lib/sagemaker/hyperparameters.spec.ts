import { HyperparameterError, trainerSettings } from './hyperparameters';

const COURSE = { image_shape: '3,32,32', num_classes: '2', num_training_samples: '1000' };

describe('trainerSettings', () => {
  it("takes the course's hyperparameters, and the stack's extensions (preset, class names, seed)", () => {
    expect(trainerSettings({ ...COURSE, scones_preset: 'quick', scones_class_names: 'bicycle, motorcycle', scones_seed: '7' })).toMatchObject({
      preset: 'quick',
      classNames: ['bicycle', 'motorcycle'],
      seed: 7,
      numTrainingSamples: 1000,
      config: { imageSize: 32 },
      notHonoured: [],
    });
    expect(trainerSettings(COURSE).seed).toBeUndefined();
  });

  it('records what the local trainer cannot honour instead of ignoring it silently', () => {
    const settings = trainerSettings({ ...COURSE, num_layers: '152', use_pretrained_model: '1' });
    expect(settings.notHonoured).toEqual([expect.stringMatching(/^num_layers=152: /), expect.stringMatching(/^use_pretrained_model=1: /)]);
  });

  it('names the bad hyperparameter', () => {
    expect(() => trainerSettings({ image_shape: '3,32,32', num_training_samples: '10' })).toThrow(HyperparameterError);
    expect(() => trainerSettings({ ...COURSE, scones_seed: '-1' })).toThrow(/scones_seed: expected an integer >= 0, got "-1"/);
    expect(() => trainerSettings({ ...COURSE, scones_preset: 'huge' })).toThrow(/scones_preset: expected "full" or "quick"/);
    expect(() => trainerSettings({ ...COURSE, image_shape: '3,32' })).toThrow(/image_shape: expected "channels,height,width"/);
  });
});
