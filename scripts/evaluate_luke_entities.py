#!/usr/bin/env python
"""Held-out masked entity prediction of a ``luke_pretrain`` checkpoint, against frequency baselines.

    python scripts/evaluate_luke_entities.py --checkpoint checkpoints/checkpoint_last.pt [--split valid] \
        [--output valid.entities.jsonl]

Every entity of the held-out articles is predicted once with the words unmasked and the other
entities visible: in round r of K (K = round(1 / entity_mask_prob), 7 for LUKE's 15%) the entities
whose index in their instance is r mod K are replaced by ``[MASK]``, as many as training masks.
``[UNK]`` entities are inputs only. Two baselines, counted from the training split only:
- most frequent entity: always the entity linked most often in training;
- anchor prior: the entity the same anchor (the mention's exact token ids) links to most often in
  training, else the most frequent entity (the "most frequent target of that anchor").
Prints accuracy for all entities and split by whether the anchor occurs in training; ``--output``
writes one JSON line per prediction (anchor text, gold, predicted, baseline, top scores).
"""
import argparse
import sys
from collections import Counter, defaultdict

import torch

from fairseq_plugins.data.blink_formats import write_jsonl
from fairseq_plugins.errors import InputError
from fairseq_plugins.luke_prediction import add_checkpoint_args, batches, format_table, load_for_prediction
from fairseq_plugins.tasks.luke_pretrain import HEAD, LukePretrainTask


def anchor_priors(dataset, unk):
    """(anchor token ids -> Counter of entity ids, Counter of all entity ids) over ``dataset``."""
    anchors, overall = defaultdict(Counter), Counter()
    for i in range(len(dataset)):
        words, entities = dataset.words[i].numpy(), dataset.entities[i].numpy()
        for entity, (start, end) in zip(entities.tolist(), dataset.spans[i].numpy().reshape(-1, 2).tolist()):
            if entity != unk:
                anchors[tuple(words[start:end].tolist())][entity] += 1
                overall[entity] += 1
    return anchors, overall


def detokenize(symbols):
    text = " ".join(symbols).replace(" ##", "")
    return text.replace(" \u0120", " ").replace("\u0120", " ").strip() if "\u0120" in text else text


def evaluate(task, model, split="valid", batch_size=8, rounds=None, top_k=5):
    """Accuracy counts and one record per held-out entity (see the module docstring)."""
    if not isinstance(task, LukePretrainTask):
        raise InputError(None, f"the checkpoint was trained with {type(task).__name__}, not luke_pretrain",
                         field="task")
    vocab, dictionary = task.entity_vocab, task.dictionary
    anchors, overall = anchor_priors(task.build_dataset("train", masked=False), vocab.unk)
    if not overall:
        raise InputError(task.cfg.data, "the training split has no entity to count baselines from")
    most_frequent = overall.most_common(1)[0][0]
    heldout = task.build_dataset(split, masked=False)
    rounds = rounds or max(1, round(1 / task.cfg.entity_mask_prob))
    head = model.entity_heads[HEAD]
    device = next(model.parameters()).device
    records = []
    for r in range(rounds):
        for batch in batches(heldout, batch_size):
            net = {k: v.to(device) for k, v in batch["net_input"].items()}
            gold = batch["entity_gold"].to(device)
            index = torch.arange(gold.size(1), device=device).expand_as(gold)
            chosen = index.remainder(rounds).eq(r) & gold.ne(vocab.pad) & gold.ne(vocab.unk)
            if not chosen.any():
                continue
            net["entity_ids"] = torch.where(chosen, torch.full_like(gold, vocab.mask), gold)
            _, extra = model(**net, features_only=True)
            probs = head(extra["entity_states"], chosen).float().softmax(-1)
            top = probs.topk(min(top_k, probs.size(-1)), dim=-1)
            rows, cols = chosen.nonzero(as_tuple=True)
            for k, (b, e) in enumerate(zip(rows.tolist(), cols.tolist())):
                instance = int(batch["id"][b])
                start, end = heldout.spans[instance].numpy().reshape(-1, 2)[e].tolist()
                anchor = tuple(heldout.words[instance].numpy()[start:end].tolist())
                seen = anchor in anchors
                baseline = anchors[anchor].most_common(1)[0][0] if seen else most_frequent
                target, predicted = int(gold[b, e]), int(top.indices[k, 0])
                records.append({
                    "instance": instance, "entity": e, "anchor": detokenize([dictionary[t] for t in anchor]),
                    "gold": vocab.title(target), "predicted": vocab.title(predicted),
                    "anchor_baseline": vocab.title(baseline), "anchor_in_train": seen,
                    "correct": predicted == target, "baseline_correct": baseline == target,
                    "most_frequent_correct": most_frequent == target,
                    "top": [[vocab.title(int(i)), round(float(p), 4)] for p, i in zip(top.values[k], top.indices[k])]})
    return records, vocab.title(most_frequent)


def accuracy_table(records) -> str:
    groups = [("all", records), ("anchor seen in train", [r for r in records if r["anchor_in_train"]]),
              ("anchor unseen", [r for r in records if not r["anchor_in_train"]])]

    def acc(rows, key):
        return 100.0 * sum(r[key] for r in rows) / len(rows) if rows else 0.0

    return format_table(["entities", "n", "model %", "anchor prior %", "most frequent %"],
                        [(name, len(rows), acc(rows, "correct"), acc(rows, "baseline_correct"),
                          acc(rows, "most_frequent_correct")) for name, rows in groups])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_checkpoint_args(parser, folders=("data",))
    parser.add_argument("--split", default="valid", help="held-out split to evaluate")
    parser.add_argument("--rounds", type=int, help="masking rounds (default: round(1 / --entity-mask-prob))")
    parser.add_argument("--output", help="JSON lines, one per predicted entity")
    args = parser.parse_args(argv)
    try:
        task, model = load_for_prediction(args)
        records, most_frequent = evaluate(task, model, args.split, args.batch_size, args.rounds)
    except InputError as e:
        sys.exit(f"error: {e}")
    if args.output:
        write_jsonl(args.output, records)
    print(f"held-out masked entity prediction on {args.split!r} (most frequent training entity: {most_frequent})")
    print(accuracy_table(records))


if __name__ == "__main__":
    main()
