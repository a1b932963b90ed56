"""The answer types of the ``nq_reader`` head, shared by NQ instances and SQuAD windows.

NQ labels a candidate 0 no answer, 1 long answer only, 2 short span, 3 NO, 4 YES (the Kaggle
TF2-QA first-place classes); SQuAD windows use 0 and 2, so one model pre-trains on SQuAD 2.0 and
fine-tunes on NQ. ``IGNORE`` marks targets the losses skip.
"""
NO_ANSWER, LONG_ONLY, SHORT, NO, YES = range(5)
ANSWER_TYPES = ("no_answer", "long_only", "short", "no", "yes")
IGNORE = -1
