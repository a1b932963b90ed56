"""A task base for tasks whose model reads and predicts in one vocabulary, ``self.dictionary``.

Underscored: a shared base the task modules import, registering nothing itself."""
from fairseq.tasks import FairseqTask


class SingleDictionaryTask(FairseqTask):
    """Source and target dictionary are both ``self.dictionary`` (set by the subclass)."""

    @property
    def source_dictionary(self):
        return self.dictionary

    @property
    def target_dictionary(self):
        return self.dictionary
