"""The bottom layer: errors, argument checks, atomic files, tables, locks, logging.

Nothing here imports TensorFlow or any other kerasopt package.
"""
