"""Evaluation: model-registry metrics (evaluation.json), bias metrics, HTML report, quality gate."""
