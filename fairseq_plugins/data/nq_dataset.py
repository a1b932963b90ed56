"""NQ reader instances as a fairseq dataset: padded tokens and segments, answer-type and span targets."""
import torch
from fairseq.data import data_utils

from .example_dataset import ExampleDataset


class NqReaderDataset(ExampleDataset):
    """Examples are :class:`~fairseq_plugins.data.nq_inputs.NqInstance`."""

    def collater(self, samples):
        if not samples:
            return {}
        batch = [self.examples[i] for i in samples]
        tokens = data_utils.collate_tokens([torch.from_numpy(x.tokens) for x in batch], self.pad)
        positions = torch.arange(tokens.size(1))
        segment_starts = torch.tensor([x.segment_start for x in batch])
        segments = (positions[None] >= segment_starts[:, None]).long() * tokens.ne(self.pad).long()
        return {
            "id": torch.tensor(samples, dtype=torch.long),
            "nsentences": len(batch),
            "ntokens": int(self.sizes[samples].sum()),
            "net_input": {"src_tokens": tokens, "segment_labels": segments},
            "target": {"answer_type": torch.tensor([x.answer_type for x in batch]),
                       "start": torch.tensor([x.start for x in batch]),
                       "end": torch.tensor([x.end for x in batch])},
        }
