"""The DeltaActivation layer body, shared by the Keras 3 and tf-keras classes."""
import tensorflow as tf

from . import _math


class DeltaLayerMixin:
    """Config, weight and call of DeltaActivation; the class adds the Keras base layer.

    Quantizes its input to a trainable step q = max(|threshold|, 1e-6) and,
    while training, adds sparsity_weight * fan_out * mean(|y[t] - y[t-1]|).
    """

    def __init__(self, threshold_init=0.1, granularity="channel", trainable_threshold=True,
                 sparsity_weight=1e-4, fan_out=1.0, clip_length=None, threshold_gradient="lsq", **kwargs):
        super().__init__(**kwargs)
        _math.check_options(granularity, clip_length, threshold_gradient)
        self.threshold_init = float(threshold_init)
        self.granularity = granularity
        self.trainable_threshold = bool(trainable_threshold)
        self.sparsity_weight = float(sparsity_weight)
        self.fan_out = float(fan_out)
        self.clip_length = None if clip_length is None else int(clip_length)
        self.threshold_gradient = threshold_gradient

    def _constant(self, value):
        raise NotImplementedError

    def build(self, input_shape):
        shape = _math.threshold_shape(self.granularity, self.clip_length, input_shape, self.name)
        self.threshold = self.add_weight(name="threshold", shape=shape, initializer=self._constant(self.threshold_init),
                                         trainable=self.trainable_threshold)
        self.built = True

    def call(self, inputs, training=None):
        x = tf.convert_to_tensor(inputs)
        y, loss = _math.delta_call(x, self.threshold, name=self.name, clip_length=self.clip_length,
                                   threshold_gradient=self.threshold_gradient, sparsity_weight=self.sparsity_weight,
                                   fan_out=self.fan_out, training=training)
        if loss is not None:
            self.add_loss(loss)
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        base = super().get_config()
        config = {k: base[k] for k in ("name", "trainable", "dtype") if k in base}
        config.update({
            "threshold_init": self.threshold_init,
            "granularity": self.granularity,
            "trainable_threshold": self.trainable_threshold,
            "sparsity_weight": self.sparsity_weight,
            "fan_out": self.fan_out,
            "clip_length": self.clip_length,
            "threshold_gradient": self.threshold_gradient,
        })
        return config
