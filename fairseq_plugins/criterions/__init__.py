"""Registered criterions (the foundation reuses fairseq's masked_lm and sentence_prediction)."""
