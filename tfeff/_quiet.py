"""Importing this module imports Keras (and TensorFlow behind it) with their
start-up lines hidden (`tfeff._console.quiet_keras_import`).

The packages that need Keras import it before anything else, so however a
user reaches them (`import tfeff.layers`, a CLI, a name read from `tfeff`),
TensorFlow starts quietly; `import tfeff` alone does not start it.
"""

from tfeff._console import quiet_keras_import

quiet_keras_import()
