"""Where tfeff reaches into Keras' private code, in one place.

Each workaround names the Keras issue it works around, touches only the
case that issue is about, and is to be deleted when the Keras release that
fixes it is the lowest tfeff supports.

- keras-team/keras#20585 (tensorflow#72388): `fit`/`evaluate` fail under
  `MultiWorkerMirroredStrategy` in Keras 3 (3.15 included):
  `mend_multi_worker_fit`.
"""

import tfeff._quiet  # noqa: F401  (TensorFlow starts quietly)

import keras


def is_multi_worker(strategy):
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def mend_multi_worker_fit(model, strategy):
    """Makes `model.fit`/`evaluate` work under MultiWorkerMirroredStrategy.

    Keras 3 (3.15 included) fails there in two places (keras-team/keras#20585,
    tensorflow#72388): before the first step it asks the strategy to average
    a whole nested batch of `PerReplica` values, which the collective
    strategy's `reduce` only takes one tensor at a time; and every step it
    averages the scalar logs along axis 0, which a scalar does not have.
    Both are mended here, narrowly: the model gets its own symbolic build
    (shapes from this worker's first local replica, which is all the build
    needs), and the log reduction, for this strategy only, averages each
    value across workers along axis 0 when it has one and as a whole when
    it is a scalar. Other strategies go through Keras' code untouched.
    """
    if not is_multi_worker(strategy):
        return
    import tensorflow as tf
    from keras.src.backend.tensorflow import trainer as tf_trainer

    def local_value(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(
                    local_value, next(batches)
                )
                break
        with strategy.scope():
            model._symbolic_build(data_batch=data_batch)

    model._maybe_symbolic_build = symbolic_build
    keras_reduce = tf_trainer.reduce_per_replica
    if getattr(keras_reduce, "mended_for_multi_worker", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and is_multi_worker(strategy):

            def mean(value):
                if not (
                    tf.is_tensor(value)
                    or isinstance(value, tf.distribute.DistributedValues)
                ):
                    return value
                axis = 0 if value.shape.rank else None
                return strategy.reduce("MEAN", value, axis=axis)

            return keras.tree.map_structure(mean, values)
        return keras_reduce(values, strategy, reduction)

    reduce_per_replica.mended_for_multi_worker = True
    tf_trainer.reduce_per_replica = reduce_per_replica
