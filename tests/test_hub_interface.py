"""``BertPluginModel.from_pretrained``: raw text in, the ids and features Hugging Face gives out.

Loaded from (a) a converted Hugging Face folder, for each tokenizer family (WordPiece, byte-level
BPE, sentencepiece), and (b) a ``fairseq-train`` save dir with its data-bin.
"""
import json
import os

import pytest
import torch

import cli_utils
from fairseq_plugins.errors import InputError
from fairseq_plugins.models.bert_plugin import BertPluginModel

transformers = pytest.importorskip("transformers")
from fairseq_plugins.conversion import hf_to_fairseq  # noqa: E402



SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
             max_position_embeddings=40, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
BERT_VOCAB = (["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
              + "the a quick brown fox dog lazy jumps over hello world , . ! cat sat on mat".split()
              + ["##es", "##s", "##ing"] + [f"filler{i}" for i in range(20)])
PAIR = ("The quick Foxes sating!", "Hello, world.")  # fox ##es, sat ##ing
CORPUS = ["The quick brown fox jumps over the lazy dog.", "Hello, world! How are you today?",
          "Cats and dogs sleeping on mats.", "A cat sat on the mat!"] * 40


def randomize(model):
    """Non-trivial LayerNorm and bias values, so that a wrongly mapped parameter shows in features."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.normal_(mean=1.0 if name.endswith("weight") else 0.0, std=0.2)
    return model.eval()


@pytest.fixture(scope="module")
def bert(tmp_path_factory):
    """A random uncased HF BERT folder and its conversion."""
    root = tmp_path_factory.mktemp("hub_bert")
    hf_dir = root / "hf"
    cli_utils.write_lines(hf_dir / "vocab.txt", BERT_VOCAB)
    (hf_dir / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    torch.manual_seed(0)
    hf = randomize(transformers.BertForMaskedLM(transformers.BertConfig(vocab_size=len(BERT_VOCAB), **SMALL)))
    hf.save_pretrained(hf_dir)
    hf_to_fairseq(str(hf_dir), str(root / "converted"))
    tokenizer = transformers.BertTokenizer(vocab=str(hf_dir / "vocab.txt"), do_lower_case=True)
    return dict(root=root, hf=hf, tokenizer=tokenizer, converted=root / "converted")


def test_bert_encode_equals_hf_tokenizer(bert):
    hub = BertPluginModel.from_pretrained(str(bert["converted"]))
    assert not hub.model.training  # loaded for inference: dropout off
    for texts in (PAIR[:1], PAIR):
        expected = bert["tokenizer"](*texts)
        tokens = hub.encode(*texts)
        assert tokens.tolist() == expected["input_ids"]
        assert hub.segment_labels(tokens).tolist() == expected["token_type_ids"]
    assert BERT_VOCAB.index("[UNK]") in hub.encode("zebra").tolist()


def test_bert_features_equal_hf_for_a_pair(bert):
    hub = BertPluginModel.from_pretrained(str(bert["converted"]))
    tokens = hub.encode(*PAIR)
    reference = bert["hf"].bert(**bert["tokenizer"](*PAIR, return_tensors="pt"), output_hidden_states=True)
    ours = hub.extract_features(tokens, return_all_hiddens=True, segment_labels=hub.segment_labels(tokens))
    assert len(ours) == len(reference.hidden_states)
    for a, b in zip(ours, reference.hidden_states):
        torch.testing.assert_close(a, b.detach(), atol=1e-5, rtol=0)


def test_bert_decode(bert):
    hub = BertPluginModel.from_pretrained(str(bert["converted"]))
    single = hub.encode(PAIR[1])
    assert hub.decode(single) == bert["tokenizer"].decode(single.tolist(), skip_special_tokens=True)
    assert hub.decode(single) == "hello, world."
    assert hub.decode(hub.encode(*PAIR)) == ["the quick foxes sating!", "hello, world."]


def test_too_long_input_is_refused(bert):
    hub = BertPluginModel.from_pretrained(str(bert["converted"]))
    with pytest.raises(ValueError, match="exceed the model's 40 positions"):
        hub.extract_features(hub.encode(" ".join(["fox"] * 50)))


def test_no_tokenizer_files_is_a_clear_error(bert, tmp_path):
    for name in ("model.pt", "dict.txt"):
        (tmp_path / name).write_bytes((bert["converted"] / name).read_bytes())
    hub = BertPluginModel.from_pretrained(str(tmp_path))
    with pytest.raises(InputError, match=r"no tokenizer files \(vocab\.txt or vocab\.json\+merges\.txt"):
        hub.encode("hello")
    # Already tokenized text still works without tokenizer files.
    assert hub.encode_tokens(["hello", "world"]).tolist() == [3, BERT_VOCAB.index("hello"),
                                                                BERT_VOCAB.index("world"), 4]


def test_tokenizer_of_another_model_is_refused(bert, tmp_path):
    other = tmp_path / "other"
    cli_utils.write_lines(other / "vocab.txt", BERT_VOCAB[:6] + list(reversed(BERT_VOCAB[6:])))
    hub = BertPluginModel.from_pretrained(str(bert["converted"]), tokenizer_dir=str(other))
    with pytest.raises(InputError, match="belong to another model"):
        hub.encode("hello")


# ---- other tokenizer families -----------------------------------------------------------------------

def test_roberta_bytebpe_encode_and_features_equal_hf(tmp_path):
    from tokenizers import ByteLevelBPETokenizer

    hf_dir = tmp_path / "hf"
    corpus = cli_utils.write_lines(tmp_path / "corpus.txt", CORPUS)
    bpe = ByteLevelBPETokenizer()
    bpe.train([str(corpus)], vocab_size=300, min_frequency=2, show_progress=False,
              special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    os.makedirs(hf_dir)
    bpe.save_model(str(hf_dir))
    tokenizer = transformers.RobertaTokenizer.from_pretrained(str(hf_dir))
    vocab_size = len(json.loads((hf_dir / "vocab.json").read_text()))
    config = transformers.RobertaConfig(vocab_size=vocab_size, type_vocab_size=1, pad_token_id=1,
                                        **{**SMALL, "max_position_embeddings": 42})
    hf = randomize(transformers.RobertaModel(config))
    hf.save_pretrained(hf_dir)
    hf_to_fairseq(str(hf_dir), str(tmp_path / "converted"))

    hub = BertPluginModel.from_pretrained(str(tmp_path / "converted"))
    expected = tokenizer(*PAIR)["input_ids"]
    tokens = hub.encode(*PAIR)
    assert tokens.tolist() == expected  # <s> a </s></s> b </s>
    assert hub.decode(tokens) == list(PAIR)
    with torch.no_grad():
        reference = hf(input_ids=torch.tensor([expected])).last_hidden_state
    torch.testing.assert_close(hub.extract_features(tokens), reference, atol=1e-5, rtol=0)


def test_albert_sentencepiece_encode(tmp_path):
    """ALBERT lower-cases (do_lower_case in tokenizer_config.json); ids are the sentencepiece model's."""
    spm = pytest.importorskip("sentencepiece")
    hf_dir = tmp_path / "hf"
    os.makedirs(hf_dir)
    corpus = cli_utils.write_lines(tmp_path / "corpus.txt", [line.lower() for line in CORPUS])
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(hf_dir / "spiece"), vocab_size=45, pad_id=0, unk_id=1, bos_id=-1,
        eos_id=-1, user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"], pad_piece="<pad>", unk_piece="<unk>",
        minloglevel=2)
    (hf_dir / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    processor = spm.SentencePieceProcessor(model_file=str(hf_dir / "spiece.model"))
    config = transformers.AlbertConfig(vocab_size=processor.get_piece_size(), embedding_size=16, pad_token_id=0,
                                       **SMALL)
    transformers.AlbertForMaskedLM(config).save_pretrained(hf_dir)
    hf_to_fairseq(str(hf_dir), str(tmp_path / "converted"))

    hub = BertPluginModel.from_pretrained(str(tmp_path / "converted"))
    cls, sep = processor.piece_to_id("[CLS]"), processor.piece_to_id("[SEP]")
    a, b = processor.encode(["the quick fox", "hello world"])
    assert hub.encode("The Quick fox", "Hello world").tolist() == [cls] + a + [sep] + b + [sep]
    assert hub.decode(hub.encode("hello world")) == "hello world"


# ---- a fairseq-train save dir ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(bert):
    """Two updates of masked-LM fine-tuning from the converted model, saved by fairseq-train."""
    root, converted = bert["root"], bert["converted"]
    raw = cli_utils.write_lines(root / "raw" / "train.txt", CORPUS[:8]).parent
    tokenize_text = cli_utils.load_script("tokenize_text")
    tokenize_text.main(["--tokenizer", "bert", "--vocab", str(converted / "vocab.txt"),
                        "--input", str(raw / "train.txt"), "--output", str(raw / "train.tok")])
    data_bin, save_dir = root / "data-bin", root / "save"
    cli_utils.run_cli([
        cli_utils.BIN / "fairseq-preprocess", "--user-dir", cli_utils.USER_DIR, "--task", "vocab_masked_lm",
        "--only-source", "--srcdict", converted / "dict.txt", "--trainpref", raw / "train.tok",
        "--validpref", raw / "train.tok", "--destdir", data_bin, "--workers", "1"])
    arch_flag, arch, *model_flags = (converted / "arch_args.txt").read_text().split()
    assert arch_flag == "--arch"
    cli_utils.train(data_bin, save_dir, "--finetune-from-model", converted / "model.pt",
                    "--required-batch-size-multiple", "1", "--tokens-per-sample", "32",
                    arch=arch, model_flags=model_flags)
    return dict(data_bin=data_bin, save_dir=save_dir)


def test_load_from_a_fairseq_train_save_dir(bert, trained):
    save_dir = trained["save_dir"]
    assert (save_dir / "checkpoint_best.pt").is_file() and not (save_dir / "dict.txt").exists()
    hub = BertPluginModel.from_pretrained(str(save_dir), checkpoint_file="checkpoint_best.pt",
                                          data_name_or_path=str(trained["data_bin"]))
    saved = torch.load(save_dir / "checkpoint_best.pt", weights_only=True)["model"]
    for name, tensor in hub.model.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    assert hub.dictionary.symbols[:len(BERT_VOCAB)] == BERT_VOCAB
    assert hub.encode_tokens(["hello"]).tolist() == [3, BERT_VOCAB.index("hello"), 4]

    # A save dir and a data-bin carry no tokenizer files: say so, and take them from where they are.
    with pytest.raises(InputError, match="no tokenizer files"):
        hub.encode("hello")
    hub = BertPluginModel.from_pretrained(str(save_dir), checkpoint_file="checkpoint_best.pt",
                                          data_name_or_path=str(trained["data_bin"]),
                                          tokenizer_dir=str(bert["converted"]))
    assert hub.encode(*PAIR).tolist() == bert["tokenizer"](*PAIR)["input_ids"]
    assert hub.extract_features(hub.encode("hello")).shape == (1, 3, 32)
