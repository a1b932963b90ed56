"""``adamw_fused`` (fairseq's Adam on torch's fused kernel) with per-parameter learning-rate multipliers and no
decay on biases and norms.

LEAR trains its task layers at ``task_layer_lr`` times the encoder's learning rate. fairseq
hands the optimizer one flat parameter list and its schedulers set one learning rate on every
group, so the multiplier lives on the parameters (``param.lr_scale``, set by the model): this
optimizer groups parameters by it and keeps each group at ``lr * lr_scale`` whatever the
scheduler sets. One-dimensional parameters (biases, LayerNorm) get no weight decay, which is
what LEAR's code meant to do (its consumed generators instead left them out of training).
"""
from dataclasses import dataclass, field

from fairseq.optim import register_optimizer
from fairseq.optim.adam import FairseqAdamConfig

from .fused_adamw import FusedAdamW


@dataclass
class LearAdamConfig(FairseqAdamConfig):
    decay_bias_and_norm: bool = field(
        default=False, metadata={"help": "apply weight decay to 1-D parameters (biases, LayerNorm) too"})


def lr_scales(optimizer) -> set:
    """The multipliers ``optimizer`` (possibly a fairseq fp16/AMP wrapper) applies; {1.0} for plain ones."""
    return {group.get("lr_scale", 1.0) for group in optimizer.param_groups}


@register_optimizer("lear_adam", dataclass=LearAdamConfig)
class LearAdam(FusedAdamW):
    def __init__(self, cfg: LearAdamConfig, params):
        groups = {}
        for p in params:
            exempt = p.dim() <= 1 and not cfg.decay_bias_and_norm
            groups.setdefault((float(getattr(p, "lr_scale", 1.0)), exempt), []).append(p)
        # The unscaled group first: get_lr() reads group 0.
        ordered = sorted(groups.items(), key=lambda item: (item[0][0] != 1.0, item[0]))
        super().__init__(cfg, [{"params": ps, "lr_scale": scale, "decay_exempt": exempt,
                                "weight_decay": 0.0 if exempt else cfg.weight_decay}
                               for (scale, exempt), ps in ordered])
        self.set_lr(self.optimizer_config["lr"])

    def get_lr(self):
        group = self.param_groups[0]
        return group["lr"] / group["lr_scale"]

    def set_lr(self, lr):
        for group in self.param_groups:
            group["lr"] = lr * group["lr_scale"]

    def load_state_dict(self, state_dict, optimizer_overrides=None):
        """fairseq's overrides would put one lr and weight decay on every group: re-apply them per group."""
        overrides = dict(optimizer_overrides or {})
        lr, decay = overrides.pop("lr", None), overrides.pop("weight_decay", None)
        super().load_state_dict(state_dict, overrides)
        if lr is not None:
            self.set_lr(lr)
        if decay is not None:
            for group in self.param_groups:
                group["weight_decay"] = 0.0 if group["decay_exempt"] else decay
