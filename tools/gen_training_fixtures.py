"""Golden fixtures for the Training target, computed by real Keras 3.

Run: .venv/bin/python tools/gen_training_fixtures.py [section ...]
     (sections: losses metrics schedules optimizers callbacks compile parity;
     all by default; the parity section takes several minutes)

Writes into Tests/TrainingTests/Fixtures/:

  losses.json       each loss on fixed y_true/y_pred (± sample weights): the
                    reduced value and its gradient with respect to y_pred
  metrics.json      each metric after a sequence of update_state calls
  schedules.json    learning-rate schedules evaluated at steps 0..N
  optimizers.json   each optimizer applied to two variables for four steps of
                    fixed gradients: the variables after every step, and
                    `get_config()` for the config round trip
  callbacks.json    EarlyStopping / ReduceLROnPlateau fed fixed epoch logs:
                    when training stops, the learning rate after each epoch
  compile.json      `model.get_compile_config()` after a few compile calls
  parity/<model>/   training parity. Models: `mlp` (Dense, softmax output),
                    `convbn` (Conv2D + BatchNormalization + MaxPooling2D),
                    `rnn` (LSTM), `residual` (functional Add of two branches).
                    Each is fitted by Keras for 3 epochs, `shuffle=False`, 22
                    samples in batches of 8 (the last one partial), once per
                    optimizer configuration; `mlp` also has `feature_*` cases
                    (validation split, sample and class weights, regularizers
                    and constraints, several metrics).
      model.json      `model.get_config()`, the weight layout, loss and metrics
      x.npy, y.npy    the data; init.npy: all initial weights, flat, in
                      `model.weights` order
      <case>.json     optimizer, loss and metric configs, fit arguments, and
                      Keras's per-epoch history
      <case>.npy      the weights after `fit` (flat)

Every JSON file records the Keras and TensorFlow versions that wrote it.
"""
import json
import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import tensorflow as tf
import keras

tf.config.experimental.enable_op_determinism()

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests/TrainingTests/Fixtures"
VERSIONS = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__}


def array_json(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "values": a.reshape(-1).astype(np.float64).tolist()}


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**VERSIONS, **obj}, indent=1, allow_nan=True))


# ---------------------------------------------------------------- losses

def loss_cases(rng):
    L = keras.losses
    probs3 = rng.dirichlet([1, 1, 1], size=4).astype(np.float32)
    probs3[0] = [1.0, 0.0, 0.0]  # exercises the 1e-7 clip
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    sparse = np.array([0, 2, 1, 1], np.float32)
    logits = rng.normal(size=(4, 3)).astype(np.float32) * 2
    bprob = rng.uniform(0.01, 0.99, size=(4, 2)).astype(np.float32)
    bprob[0, 0] = 0.0
    bprob[1, 1] = 1.0
    blabel = rng.integers(0, 2, size=(4, 2)).astype(np.float32)
    reg_t = rng.normal(size=(4, 3)).astype(np.float32)
    reg_p = rng.normal(size=(4, 3)).astype(np.float32)
    sw = np.array([1.0, 0.5, 2.0, 0.0], np.float32)
    seq_p = rng.dirichlet([1, 1, 1], size=(2, 3)).astype(np.float32)
    seq_t = np.array([[0, 1, 2], [2, 2, 0]], np.float32)
    kl_t = rng.dirichlet([1, 1, 1], size=4).astype(np.float32)
    return [
        ("cce", L.CategoricalCrossentropy(), onehot, probs3, None),
        ("cce_smoothing", L.CategoricalCrossentropy(label_smoothing=0.1), onehot, probs3, None),
        ("cce_logits", L.CategoricalCrossentropy(from_logits=True), onehot, logits, None),
        ("cce_logits_smoothing_weighted", L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
         onehot, logits, sw),
        ("cce_axis0", L.CategoricalCrossentropy(axis=0), onehot.T.copy(), probs3.T.copy(), None),
        ("scce", L.SparseCategoricalCrossentropy(), sparse, probs3, None),
        ("scce_column_labels", L.SparseCategoricalCrossentropy(), sparse[:, None], probs3, None),
        ("scce_logits_weighted", L.SparseCategoricalCrossentropy(from_logits=True), sparse, logits, sw),
        ("scce_sequence", L.SparseCategoricalCrossentropy(), seq_t, seq_p, None),
        ("scce_ignore_class", L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), sparse, logits, None),
        ("bce", L.BinaryCrossentropy(), blabel, bprob, None),
        ("bce_smoothing_weighted", L.BinaryCrossentropy(label_smoothing=0.1), blabel, bprob, sw),
        ("bce_logits", L.BinaryCrossentropy(from_logits=True), blabel, logits[:, :2].copy(), None),
        ("bce_rank1", L.BinaryCrossentropy(), blabel[:, 0].copy(), bprob[:, :1].copy(), None),
        ("mse", L.MeanSquaredError(), reg_t, reg_p, None),
        ("mse_weighted", L.MeanSquaredError(), reg_t, reg_p, sw),
        ("mse_sum", L.MeanSquaredError(reduction="sum"), reg_t, reg_p, None),
        ("mse_none", L.MeanSquaredError(reduction="none"), reg_t, reg_p, None),
        ("mae", L.MeanAbsoluteError(), reg_t, reg_p, None),
        ("mae_column", L.MeanAbsoluteError(), reg_t[:, 0].copy(), reg_p[:, :1].copy(), None),
        ("huber", L.Huber(), reg_t, reg_p, None),
        ("huber_delta", L.Huber(delta=0.3), reg_t, reg_p, sw),
        ("kld", L.KLDivergence(), kl_t, probs3, None),
        ("cosine", L.CosineSimilarity(), reg_t, reg_p, None),
        ("cosine_axis0_weighted", L.CosineSimilarity(axis=0), reg_t, reg_p, np.array([1, 2, 0.5], np.float32)),
    ]


def gen_losses(rng):
    cases = []
    for name, loss, yt, yp, sw in loss_cases(rng):
        ypv = tf.Variable(yp)
        with tf.GradientTape() as tape:
            value = loss(yt, ypv, sample_weight=sw)
            target = tf.reduce_sum(value)
        grad = tape.gradient(target, ypv)
        serialized = keras.losses.serialize(loss)
        keras_config = dict(serialized["config"])
        # Keras 3 drops Huber's `delta` and CosineSimilarity's `axis` from
        # get_config(); keep every keyword so the case is self-describing.
        serialized["config"].update(loss._fn_kwargs)
        cases.append({
            "name": name,
            "loss": serialized,
            "keras_config": keras_config,
            "y_true": array_json(yt), "y_pred": array_json(yp),
            "sample_weight": None if sw is None else array_json(sw),
            "value": array_json(value.numpy()),
            "grad": array_json(grad.numpy()),
        })
    write_json(ROOT / "losses.json", {"cases": cases})


# ---------------------------------------------------------------- metrics

def gen_metrics(rng):
    M = keras.metrics
    probs = rng.dirichlet([1, 1, 1, 1], size=(3, 6)).astype(np.float32)
    probs[0, 0] = [0.3, 0.3, 0.2, 0.2]  # a tie for top-k and argmax
    labels = rng.integers(0, 4, size=(3, 6)).astype(np.float32)
    onehot = np.eye(4, dtype=np.float32)[labels.astype(int)]
    bprob = rng.uniform(0, 1, size=(3, 6, 1)).astype(np.float32)
    bprob[0, :3, 0] = [0.5, 0.0, 1.0]
    blabel = rng.integers(0, 2, size=(3, 6, 1)).astype(np.float32)
    reg_t = rng.normal(size=(3, 6, 2)).astype(np.float32)
    reg_p = rng.normal(size=(3, 6, 2)).astype(np.float32)
    sw = rng.uniform(0, 2, size=(3, 6)).astype(np.float32)
    exact_t = rng.integers(0, 3, size=(3, 6)).astype(np.float32)
    exact_p = rng.integers(0, 3, size=(3, 6)).astype(np.float32)
    specs = [
        ("accuracy", M.Accuracy(), exact_t, exact_p, None),
        ("binary_accuracy", M.BinaryAccuracy(), blabel, bprob, None),
        ("binary_accuracy_threshold_weighted", M.BinaryAccuracy(threshold=0.3), blabel, bprob, sw),
        ("categorical_accuracy", M.CategoricalAccuracy(), onehot, probs, None),
        ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy(), labels, probs, None),
        ("sparse_categorical_accuracy_weighted", M.SparseCategoricalAccuracy(), labels, probs, sw),
        ("top_k", M.TopKCategoricalAccuracy(k=2), onehot, probs, None),
        ("sparse_top_k", M.SparseTopKCategoricalAccuracy(k=2), labels, probs, None),
        ("sparse_top_k_weighted", M.SparseTopKCategoricalAccuracy(k=3), labels, probs, sw),
        ("auc", M.AUC(), blabel, bprob, None),
        ("auc_weighted", M.AUC(num_thresholds=50), blabel, bprob, sw),
        ("auc_pr", M.AUC(curve="PR"), blabel, bprob, None),
        ("auc_minoring", M.AUC(summation_method="minoring"), blabel, bprob, None),
        ("auc_logits", M.AUC(from_logits=True), blabel, (bprob - 0.5) * 6, None),
        ("auc_custom_thresholds", M.AUC(thresholds=[0.8, 0.3, 0.5]), blabel, bprob, sw),
        ("auc_pr_majoring", M.AUC(curve="PR", summation_method="majoring", num_thresholds=20), blabel, bprob, None),
        ("binary_crossentropy", M.BinaryCrossentropy(label_smoothing=0.1), blabel, bprob, None),
        ("categorical_crossentropy_weighted", M.CategoricalCrossentropy(), onehot, probs, sw),
        ("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy(), labels, probs, None),
        ("mse", M.MeanSquaredError(), reg_t, reg_p, None),
        ("mae_weighted", M.MeanAbsoluteError(), reg_t, reg_p, sw),
        ("mean", M.Mean(), None, reg_p, None),
        ("mean_weighted", M.Mean(), None, reg_p[..., 0], sw),
    ]
    cases = []
    for name, metric, yt, yp, w in specs:
        updates = []
        for i in range(3):
            wi = None if w is None else w[i]
            if yt is None:
                metric.update_state(yp[i], sample_weight=wi)
            else:
                metric.update_state(yt[i], yp[i], sample_weight=wi)
            updates.append({
                "y_true": None if yt is None else array_json(yt[i]),
                "y_pred": array_json(yp[i]),
                "sample_weight": None if wi is None else array_json(wi),
                "result": float(metric.result()),
            })
        cases.append({"name": name, "metric": keras.metrics.serialize(metric), "updates": updates})
    write_json(ROOT / "metrics.json", {"cases": cases})


# ---------------------------------------------------------------- schedules

def gen_schedules():
    S = keras.optimizers.schedules
    specs = [
        ("exponential", S.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7)),
        ("exponential_staircase", S.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.5, staircase=True)),
        ("piecewise", S.PiecewiseConstantDecay([3, 7], [0.1, 0.05, 0.01])),
        ("cosine", S.CosineDecay(0.1, decay_steps=8)),
        ("cosine_alpha", S.CosineDecay(0.2, decay_steps=10, alpha=0.1)),
        ("cosine_warmup", S.CosineDecay(0.0, decay_steps=6, alpha=0.05, warmup_target=0.1, warmup_steps=4)),
    ]
    cases = []
    for name, s in specs:
        steps = list(range(0, 14))
        values = [float(np.float32(s(tf.constant(step, tf.int64)))) for step in steps]
        cases.append({"name": name, "schedule": S.serialize(s), "steps": steps, "values": values})
    write_json(ROOT / "schedules.json", {"cases": cases})


# ---------------------------------------------------------------- optimizers

def optimizer_specs():
    O = keras.optimizers
    S = O.schedules
    return [
        ("sgd", lambda: O.SGD(learning_rate=0.05)),
        ("sgd_momentum", lambda: O.SGD(learning_rate=0.05, momentum=0.9)),
        ("sgd_nesterov", lambda: O.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)),
        ("adam", lambda: O.Adam(learning_rate=0.01)),
        ("adam_amsgrad", lambda: O.Adam(learning_rate=0.01, amsgrad=True)),
        ("adamw", lambda: O.AdamW(learning_rate=0.01, weight_decay=0.05)),
        ("rmsprop", lambda: O.RMSprop(learning_rate=0.01)),
        ("rmsprop_centered_momentum", lambda: O.RMSprop(learning_rate=0.01, momentum=0.5, centered=True)),
        ("adagrad", lambda: O.Adagrad(learning_rate=0.05)),
        ("adadelta", lambda: O.Adadelta(learning_rate=1.0)),
        ("nadam", lambda: O.Nadam(learning_rate=0.01)),
        ("sgd_clipnorm", lambda: O.SGD(learning_rate=0.05, momentum=0.9, clipnorm=0.1)),
        ("adam_global_clipnorm", lambda: O.Adam(learning_rate=0.01, global_clipnorm=0.05)),
        ("adam_clipvalue", lambda: O.Adam(learning_rate=0.01, clipvalue=0.01)),
        ("sgd_weight_decay", lambda: O.SGD(learning_rate=0.05, momentum=0.9, weight_decay=0.01)),
        ("adam_exponential_decay", lambda: O.Adam(
            learning_rate=S.ExponentialDecay(0.02, decay_steps=2, decay_rate=0.8, staircase=True))),
        ("sgd_cosine_warmup", lambda: O.SGD(learning_rate=S.CosineDecay(
            0.0, decay_steps=6, alpha=0.1, warmup_target=0.1, warmup_steps=3), momentum=0.5)),
        ("rmsprop_piecewise", lambda: O.RMSprop(learning_rate=S.PiecewiseConstantDecay([3, 6], [0.01, 0.005, 0.001]))),
    ]


def gen_optimizers(rng):
    init = [rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)]
    grads = [[rng.normal(size=v.shape).astype(np.float32) * s for v in init] for s in (1.0, 0.5, 2.0, 0.1)]
    grads[2][1][1] = 0.0
    cases = []
    for name, make in optimizer_specs():
        opt = make()
        variables = [keras.Variable(v) for v in init]
        steps = []
        for g in grads:
            opt.apply_gradients(zip([tf.constant(x) for x in g], variables))
            steps.append([array_json(v.numpy()) for v in variables])
        cases.append({"name": name, "optimizer": keras.optimizers.serialize(opt), "config": opt.get_config(),
                      "init": [array_json(v) for v in init], "grads": [[array_json(x) for x in g] for g in grads],
                      "steps": steps})
    write_json(ROOT / "optimizers.json", {"cases": cases})


# ---------------------------------------------------------------- callbacks

def tiny_model():
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse", metrics=["mae"])
    return model


def gen_callbacks():
    C = keras.callbacks
    seq = [1.0, 0.9, 0.95, 0.95, 0.899, 0.91, 0.92, 0.93, 0.85, 0.86, 0.87, 0.88, 0.89]
    rising = [0.5, 0.6, 0.55, 0.7, 0.69, 0.68, 0.71, 0.72]
    early = [
        ("patience0", dict(monitor="val_loss"), "val_loss", seq),
        ("patience2", dict(monitor="val_loss", patience=2), "val_loss", seq),
        ("min_delta", dict(monitor="loss", patience=1, min_delta=0.02), "loss", seq),
        ("baseline", dict(monitor="val_loss", patience=3, baseline=0.92), "val_loss", seq),
        ("start_from_epoch", dict(monitor="val_loss", patience=1, start_from_epoch=4), "val_loss", seq),
        ("mode_max", dict(monitor="val_mae", patience=1, mode="max"), "val_mae", rising),
        ("auto_accuracy_like", dict(monitor="val_loss", patience=2, mode="min"), "val_loss", rising),
    ]
    early_cases = []
    for name, kwargs, key, values in early:
        model = tiny_model()
        cb = C.EarlyStopping(**kwargs)
        cb.set_model(model)
        model.stop_training = False
        cb.on_train_begin()
        stopped_at = None
        for epoch, v in enumerate(values):
            cb.on_epoch_end(epoch, {key: v})
            if model.stop_training:
                stopped_at = epoch
                break
        early_cases.append({"name": name, "kwargs": kwargs, "key": key, "values": values,
                            "stopped_at": stopped_at, "best_epoch": cb.best_epoch,
                            "best": None if cb.best is None else float(cb.best), "wait": cb.wait})
    plateau = [
        ("default_patience2", dict(monitor="val_loss", patience=2, factor=0.5), "val_loss", seq),
        ("cooldown", dict(monitor="loss", patience=1, factor=0.5, cooldown=2), "loss", seq),
        ("min_lr", dict(monitor="val_loss", patience=1, factor=0.1, min_lr=0.005), "val_loss", seq),
        ("min_delta_max", dict(monitor="val_mae", patience=1, factor=0.3, mode="max", min_delta=0.05), "val_mae", rising),
    ]
    plateau_cases = []
    for name, kwargs, key, values in plateau:
        model = tiny_model()
        cb = C.ReduceLROnPlateau(**kwargs)
        cb.set_model(model)
        cb.on_train_begin()
        lrs = []
        for epoch, v in enumerate(values):
            logs = {key: v}
            cb.on_epoch_end(epoch, logs)
            lrs.append(float(np.float32(model.optimizer.learning_rate.numpy())))
        plateau_cases.append({"name": name, "kwargs": kwargs, "key": key, "values": values, "learning_rates": lrs})
    write_json(ROOT / "callbacks.json", {"early_stopping": early_cases, "reduce_lr_on_plateau": plateau_cases})


# ---------------------------------------------------------------- compile configs

def gen_compile():
    """`model.get_compile_config()` for a few compile calls, for the round trip."""
    O, L, M = keras.optimizers, keras.losses, keras.metrics
    cases = []

    def single():
        x = keras.Input((3,), name="x")
        return keras.Model(x, keras.layers.Dense(2, name="y")(x))

    def double():
        x = keras.Input((3,), name="x")
        return keras.Model(x, [keras.layers.Dense(2, name="head_a")(x), keras.layers.Dense(1, name="head_b")(x)])

    specs = [
        ("strings", single, dict(optimizer=O.Adam(0.003), loss="mse", metrics=["mae", M.AUC(name="auc")])),
        ("objects", single, dict(optimizer=O.SGD(learning_rate=O.schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.9),
                                 loss=L.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                                 weighted_metrics=["accuracy"])),
        ("multi_output", double, dict(optimizer="rmsprop", loss=["mse", L.MeanAbsoluteError()], loss_weights=[1.0, 0.5],
                                      metrics=[["mae"], []])),
    ]
    for name, build, kwargs in specs:
        model = build()
        model.compile(**kwargs)
        cases.append({"name": name, "outputs": len(model.outputs), "compile_config": model.get_compile_config()})
    write_json(ROOT / "compile.json", {"cases": cases})


# ---------------------------------------------------------------- training parity

def build_mlp():
    keras.utils.set_random_seed(11)
    x = keras.Input((5,), name="features")
    h = keras.layers.Dense(8, activation="tanh", name="hidden")(x)
    y = keras.layers.Dense(3, activation="softmax", name="probs")(h)
    return keras.Model(x, y, name="mlp"), "sparse_categorical_crossentropy", ["accuracy"]


def build_convbn():
    keras.utils.set_random_seed(12)
    x = keras.Input((6, 6, 2), name="image")
    h = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, name="conv")(x)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Activation("relu", name="relu")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    y = keras.layers.Dense(3, name="logits")(h)
    return (keras.Model(x, y, name="convbn"), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            ["accuracy"])


def build_rnn():
    keras.utils.set_random_seed(13)
    x = keras.Input((5, 3), name="sequence")
    h = keras.layers.LSTM(4, name="lstm")(x)
    y = keras.layers.Dense(2, name="out")(h)
    return keras.Model(x, y, name="rnn"), "mse", ["mae"]


def build_residual():
    keras.utils.set_random_seed(14)
    x = keras.Input((4,), name="features")
    a = keras.layers.Dense(6, activation="relu", name="stem")(x)
    b1 = keras.layers.Dense(6, activation="tanh", name="branch_a")(a)
    b2 = keras.layers.Dense(6, name="branch_b")(a)
    s = keras.layers.Add(name="add")([b1, b2])
    y = keras.layers.Dense(2, name="logits")(s)
    return (keras.Model(x, y, name="residual"), keras.losses.BinaryCrossentropy(from_logits=True),
            ["binary_accuracy"])


def parity_data(name, rng, n=22):
    if name == "mlp":
        x = rng.normal(size=(n, 5)).astype(np.float32)
        y = rng.integers(0, 3, size=(n,)).astype(np.float32)
    elif name == "convbn":
        x = rng.normal(size=(n, 6, 6, 2)).astype(np.float32)
        y = rng.integers(0, 3, size=(n,)).astype(np.float32)
    elif name == "rnn":
        x = rng.normal(size=(n, 5, 3)).astype(np.float32)
        y = rng.normal(size=(n, 2)).astype(np.float32)
    else:
        x = rng.normal(size=(n, 4)).astype(np.float32)
        y = rng.integers(0, 2, size=(n, 2)).astype(np.float32)
    return x, y


def flat_weights(model):
    return np.concatenate([np.asarray(w.numpy(), np.float32).reshape(-1) for w in model.weights])


def weight_layout(model):
    layout = []
    for layer in model.layers:
        for w in layer.weights:
            layout.append({"layer": layer.name, "path": w.path, "shape": list(w.shape)})
    # `model.weights` must be the concatenation of the layers' weights.
    assert [d["path"] for d in layout] == [w.path for w in model.weights]
    return layout


def history_json(history):
    return {k: [float(v) for v in vs] for k, vs in history.history.items()}


def fit_case(out, builder, case, optimizer, data, fit_kwargs, compile_kwargs=None, save_init=False):
    model, loss, metrics = builder()
    if save_init:
        np.save(out / f"{case}.init.npy", flat_weights(model))
    init = flat_weights(model)
    compile_kwargs = dict(compile_kwargs or {})
    metrics = compile_kwargs.pop("metrics", metrics)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **compile_kwargs)
    history = model.fit(*data, epochs=3, shuffle=False, verbose=0, **fit_kwargs)
    np.save(out / f"{case}.npy", flat_weights(model))
    write_json(out / f"{case}.json", {
        # A case whose model differs from model.json carries its own config.
        **({"model_config": model.get_config()} if save_init else {}),
        "optimizer": keras.optimizers.serialize(optimizer),
        "loss": loss if isinstance(loss, str) else keras.losses.serialize(loss),
        "metrics": [m if isinstance(m, str) else keras.metrics.serialize(m) for m in metrics],
        "fit": {k: (v if not isinstance(v, dict) else {str(c): w for c, w in v.items()})
                for k, v in fit_kwargs.items() if k != "sample_weight"},
        "history": history_json(history),
    })
    return init


def gen_parity(rng):
    builders = {"mlp": build_mlp, "convbn": build_convbn, "rnn": build_rnn, "residual": build_residual}
    for name, builder in builders.items():
        out = ROOT / "parity" / name
        out.mkdir(parents=True, exist_ok=True)
        x, y = parity_data(name, rng)
        np.save(out / "x.npy", x)
        np.save(out / "y.npy", y)
        model, loss, metrics = builder()
        np.save(out / "init.npy", flat_weights(model))
        write_json(out / "model.json", {
            "config": model.get_config(),
            "weights": weight_layout(model),
            "loss": loss if isinstance(loss, str) else keras.losses.serialize(loss),
            "metrics": metrics,
            "batch_size": 8,
        })
        for case, make in optimizer_specs():
            init = fit_case(out, builder, case, make(), (x, y), {"batch_size": 8})
            assert np.array_equal(init, np.load(out / "init.npy"))

    # Trainer features, on the MLP: validation split, sample and class weights,
    # regularizers and constraints, a metric list.
    out = ROOT / "parity" / "mlp"
    x, y = np.load(out / "x.npy"), np.load(out / "y.npy")
    O = keras.optimizers
    fit_case(out, build_mlp, "feature_validation_split", O.Adam(learning_rate=0.01), (x, y),
             {"batch_size": 5, "validation_split": 0.25})
    sw = rng.uniform(0, 2, size=(len(x),)).astype(np.float32)
    np.save(out / "sample_weight.npy", sw)
    fit_case(out, build_mlp, "feature_sample_weight", O.SGD(learning_rate=0.1, momentum=0.5), (x, y),
             {"batch_size": 8, "sample_weight": sw})
    fit_case(out, build_mlp, "feature_class_weight", O.RMSprop(learning_rate=0.01), (x, y),
             {"batch_size": 8, "class_weight": {0: 0.5, 1: 2.0}})
    fit_case(out, build_regularized, "feature_regularized", O.SGD(learning_rate=0.1), (x, y),
             {"batch_size": 8}, save_init=True)
    fit_case(out, build_mlp, "feature_metrics", O.Adam(learning_rate=0.01), (x, y), {"batch_size": 8},
             {"metrics": ["accuracy", "sparse_top_k_categorical_accuracy", keras.metrics.SparseTopKCategoricalAccuracy(
                 k=2, name="top2")]})


def build_regularized():
    keras.utils.set_random_seed(11)
    x = keras.Input((5,), name="features")
    h = keras.layers.Dense(8, activation="tanh", name="hidden", kernel_regularizer=keras.regularizers.L2(0.01),
                           bias_regularizer=keras.regularizers.L1(0.02), activity_regularizer=keras.regularizers.L1(0.01),
                           kernel_constraint=keras.constraints.MaxNorm(0.6))(x)
    y = keras.layers.Dense(3, activation="softmax", name="probs", kernel_constraint=keras.constraints.NonNeg())(h)
    return keras.Model(x, y, name="mlp"), "sparse_categorical_crossentropy", ["accuracy"]


SECTIONS = {
    "losses": lambda rng: gen_losses(rng),
    "metrics": lambda rng: gen_metrics(rng),
    "schedules": lambda rng: gen_schedules(),
    "optimizers": lambda rng: gen_optimizers(rng),
    "callbacks": lambda rng: gen_callbacks(),
    "compile": lambda rng: gen_compile(),
    "parity": lambda rng: gen_parity(rng),
}


def main(argv):
    """Writes every section, or only those named on the command line."""
    chosen = argv or list(SECTIONS)
    ROOT.mkdir(parents=True, exist_ok=True)
    if "parity" in chosen and (ROOT / "parity").exists():
        shutil.rmtree(ROOT / "parity")
    for name in chosen:
        # Each section draws from its own generator so sections can be rewritten alone.
        SECTIONS[name](np.random.default_rng([2024, list(SECTIONS).index(name)]))


if __name__ == "__main__":
    main(sys.argv[1:])
