"""Model monitoring: baseline (statistics/constraints), data capture and the drift check.

The files follow SageMaker Model Monitor's formats; see :mod:`.baseline`, :mod:`.capture` and
:mod:`.drift`.
"""
