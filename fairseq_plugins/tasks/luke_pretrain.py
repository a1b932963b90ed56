"""``luke_pretrain``: LUKE's pre-training, masked language modelling plus masked entity prediction.

``DATA`` is a folder written by ``scripts/preprocess_luke_pretrain.py`` (binarized splits, dict.txt,
entity_vocab.jsonl, luke_pretrain.json). The model is ``luke`` with an entity table of the data's
vocabulary; the task adds the entity prediction head (LUKE's ``EntityPredictionHead``: dense to
``entity_emb_size``, activation, LayerNorm, then scores against the entity table itself plus a bias).

LUKE's two stages: ``--train-entity-embeddings-only`` trains just the entity embeddings and the entity
head with the word encoder frozen (LUKE's ``--fix-bert-weights``, stage 1, lr 5e-4); stage 2 trains
everything from the stage-1 checkpoint (``--finetune-from-model`` or ``--restore-file`` with
``--reset-optimizer``, lr 1e-5). LUKE pre-trains with plain attention: pass ``--no-entity-aware-attention``.
``--stage1-also-train`` widens stage 1 to other parameters the word model did not bring: measured on the
shared Wikipedia sample, a frozen MiniLM's ``[MASK]`` entity does not attend to its own mention (its final
state finds another mention of the same entity as nearest neighbour ~9% of the time, the mention's word
states ~90%), so a short stage 1 only learns once the entity-aware queries (``entity_in_proj``) train too.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from fairseq import utils
from fairseq.data import data_utils
from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..data import load_dictionary
from ..data.luke_entity_vocab import MASK, EntityVocab
from ..data.luke_pretrain_corpus import ENTITY_VOCAB_FILE, read_meta
from ..data.luke_pretrain_dataset import LukePretrainDataset
from ..data.uer_masking import MaskingConfig
from ..errors import InputError
from ..models.parameter_freezing import freeze_all_but
from ..modules.heads import MaskedLMHead
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

HEAD = "luke_pretrain"
# Stage 1 trains only these (LUKE: entity_embeddings.* and entity_predictions.*).
ENTITY_PARAMETERS = ("encoder.sentence_encoder.entity_embeddings.", f"entity_heads.{HEAD}.")


@dataclass
class LukePretrainConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder written by scripts/preprocess_luke_pretrain.py"})
    mask_prob: float = field(default=0.15, metadata={"help": "share of word tokens to predict"})
    random_token_prob: float = field(default=0.1, metadata={"help": "share of predicted words replaced at random"})
    leave_unmasked_prob: float = field(default=0.1, metadata={"help": "share of predicted words left unchanged"})
    no_whole_word_masking: bool = field(default=False, metadata={
        "help": "mask single tokens instead of whole words (LUKE masks whole words; mLUKE subwords)"})
    entity_mask_prob: float = field(default=0.15, metadata={
        "help": "share of an instance's entities replaced by the [MASK] entity and predicted"})
    max_mention_length: Optional[int] = field(default=None, metadata={
        "help": "entity positions per mention (default: the data's --max-mention-length)"})
    train_entity_embeddings_only: bool = field(default=False, metadata={
        "help": "stage 1: train only the entity embeddings and the entity prediction head (LUKE's "
                "--fix-bert-weights)"})
    stage1_also_train: str = field(default="", metadata={
        "help": "stage 1: comma-separated parameter-name parts also trained, e.g. 'entity_in_proj' (the "
                "w2e/e2w/e2e queries: with entity-aware attention the entity tokens learn where to look "
                "while the word encoder stays frozen) or 'lm_head.dense,lm_head.layer_norm,lm_head.bias' "
                "(a source without a pre-trained MLM head, e.g. a sentence-transformers BERT)"})
    seed: int = II("common.seed")


def freeze_for_stage1(model, also_train=()) -> None:
    """Freeze all but the entity parameters and the names containing one of ``also_train``.

    The MLM head's decoder is the word table's tied tensor, named by the word embeddings, so
    ``lm_head`` parts never unfreeze the word embeddings."""
    unmatched = set(also_train) - {part for name, _ in model.named_parameters() for part in also_train
                                   if part in name}
    if unmatched:
        raise InputError(None, f"no parameter name contains {', '.join(sorted(unmatched))}",
                         field="stage1_also_train")
    freeze_all_but(model, lambda name: name.startswith(ENTITY_PARAMETERS) or any(p in name for p in also_train),
                   "stage 1: entity" + "".join(f", {p}" for p in also_train), field="stage1_also_train")


@register_task("luke_pretrain", dataclass=LukePretrainConfig)
class LukePretrainTask(SingleDictionaryTask):
    def __init__(self, cfg: LukePretrainConfig, dictionary, entity_vocab: EntityVocab, meta: dict):
        super().__init__(cfg)
        self.dictionary, self.entity_vocab, self.meta = dictionary, entity_vocab, meta
        if MASK not in entity_vocab:
            raise InputError(entity_vocab.source, "no [MASK] entity")

    @classmethod
    def setup_task(cls, cfg: LukePretrainConfig, **kwargs):
        meta = read_meta(cfg.data)
        dictionary = load_dictionary(os.path.join(cfg.data, "dict.txt"))
        entity_vocab = EntityVocab.load(os.path.join(cfg.data, ENTITY_VOCAB_FILE))
        logger.info("dictionary: %d types; entity vocabulary: %d entities", len(dictionary), len(entity_vocab))
        return cls(cfg, dictionary, entity_vocab, meta)

    @property
    def max_mention_length(self) -> int:
        return self.cfg.max_mention_length or self.meta["options"]["max_mention_length"]

    def masking_config(self) -> MaskingConfig:
        d = self.dictionary
        return MaskingConfig(mask_idx=d.mask(), pad_idx=d.pad(), special_ids=(d.bos(), d.eos(), d.pad(), d.mask()),
                             vocab_size=len(d), mask_prob=self.cfg.mask_prob,
                             random_token_prob=self.cfg.random_token_prob,
                             leave_unmasked_prob=self.cfg.leave_unmasked_prob)

    def build_dataset(self, split: str, masked: bool = True) -> LukePretrainDataset:
        """``masked=False``: words and entities as they are (the held-out evaluation masks entities itself)."""
        fields = []
        for name in ("words", "wordstarts", "entities", "spans"):
            path = os.path.join(self.cfg.data, f"{split}.{name}")
            dataset = data_utils.load_indexed_dataset(path, None, "mmap")
            if dataset is None:
                raise InputError(path + ".bin", f"not found (split {split!r})")
            fields.append(dataset)
        v = self.entity_vocab
        return LukePretrainDataset(
            *fields, self.dictionary.bos(), self.dictionary.eos(), self.dictionary.pad(), v.pad, v.mask, v.unk,
            self.max_mention_length, self.masking_config() if masked else None,
            self.cfg.entity_mask_prob if masked else 0.0, not self.cfg.no_whole_word_masking, self.cfg.seed)

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        self.datasets[split] = self.build_dataset(split)
        logger.info("%s: %d instances", split, len(self.datasets[split]))

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        if not hasattr(model, "register_entity_head"):
            raise InputError(None, f"--task luke_pretrain trains a luke model, not {cfg._name}", field="arch")
        table = model.encoder.sentence_encoder.entity_embeddings.embed_entities
        model.register_entity_head(HEAD, MaskedLMHead(
            cfg.encoder_embed_dim, table.embedding_dim, table.num_embeddings,
            utils.get_activation_fn(cfg.activation_fn), cfg.layernorm_eps, weight=table.weight))
        if self.cfg.train_entity_embeddings_only:
            freeze_for_stage1(model, [p for p in self.cfg.stage1_also_train.split(",") if p])
        return model

    def max_positions(self):
        return self.meta["options"]["max_seq_length"]
