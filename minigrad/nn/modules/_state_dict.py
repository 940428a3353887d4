"""``Module.state_dict`` / ``load_state_dict`` (mirrors PyTorch's, keys and messages alike).

Keys are dotted paths in registration order: a module's own parameters, then its persistent
buffers, then each child's entries (``0.weight``, ``features.3.bias``,
``bn.num_batches_tracked``). Loading copies into the existing tensors, on their device
whatever device the checkpoint's tensors are on, so Parameter objects (and the optimizers
holding them) stay valid."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad._tensor import Tensor
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn.parameter import Parameter

__all__ = ["StateDictMixin", "_IncompatibleKeys"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the ones it did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _as_tensor_like(value) -> Tensor | None:
    """Checkpoint values may be minigrad tensors or NumPy arrays (weights exported from
    another framework); anything else is an error."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor._wrap(value)
    return None


class StateDictMixin:
    """The state-dict half of ``Module``; it relies on Module's ``_parameters``,
    ``_buffers``, ``_non_persistent_buffers_set`` and ``_modules``."""

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Writes this module's own parameters and persistent buffers (not its children's)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(
        self, *args: Any, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict:
        """Mirrors ``Module.state_dict``: an ``OrderedDict`` of detached tensors that share
        memory with the module's parameters and persistent buffers (``keep_vars=True`` keeps
        the Parameter objects themselves)."""
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            names = ("destination", "prefix", "keep_vars")
            if len(args) > 3:
                raise TypeError(
                    f"state_dict() takes at most 3 positional arguments, got {len(args)}"
                )
            given = dict(zip(names, args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = dict(version=self._version)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Copies this module's own entries of ``state_dict`` into its tensors, recording
        missing and unexpected keys and per-key errors (as PyTorch's method of this name)."""
        persistent_buffers = {
            k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set
        }
        local_state = {
            k: v
            for k, v in list(self._parameters.items()) + list(persistent_buffers.items())
            if v is not None
        }
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = _as_tensor_like(state_dict[key])
            if input_param is None:
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected minigrad.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(state_dict[key])}"
                )
                continue
            # PyTorch's backward compatibility: a 1-element 1-d tensor loads into a 0-d one
            if param.ndim == 0 and input_param.ndim == 1 and input_param.shape[0] == 1:
                input_param = input_param[0]
            if input_param.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {input_param.shape} "
                    f"from checkpoint, the shape in current model is {param.shape}."
                )
                continue
            try:
                if assign:
                    self._assign_loaded(name, param, input_param)
                else:
                    with no_grad():  # a checkpoint from another device is copied over
                        param.copy_(input_param.detach().to(param.device))
            except Exception as ex:  # noqa: BLE001 (PyTorch collects every failure)
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model '
                    f"are {param.size()} and whose dimensions in the checkpoint are "
                    f"{input_param.size()}, an exception occurred : {ex.args}."
                )
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                input_name = key[len(prefix) :].split(".", 1)
                if len(input_name) > 1:  # a dotted name must belong to a child module
                    if input_name[0] not in self._modules:
                        unexpected_keys.append(key)
                elif input_name[0] not in local_state:
                    unexpected_keys.append(key)

    def _assign_loaded(self, name: str, param: Tensor, value: Tensor) -> None:
        """``assign=True``: the module takes the checkpoint's tensor itself (a Parameter
        keeps the module's ``requires_grad``)."""
        if isinstance(param, Parameter):
            if isinstance(value, Parameter):
                value.requires_grad_(param.requires_grad)
            else:
                value = Parameter(value.detach(), requires_grad=param.requires_grad)
        setattr(self, name, value)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Mirrors ``Module.load_state_dict``: copies every entry into the existing tensors in
        place (``assign=True``: takes the checkpoint's tensors instead). Returns
        ``(missing_keys, unexpected_keys)``; with ``strict=True`` (default) any missing or
        unexpected key raises RuntimeError, as do size mismatches always."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # _load_from_state_dict may add entries

        def load(module, local_state_dict: dict, prefix: str = "") -> None:
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(
                local_state_dict,
                prefix,
                local_metadata,
                True,  # as PyTorch: always collect the keys; `strict` decides about raising
                missing_keys,
                unexpected_keys,
                error_msgs,
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {
                        k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)
                    }
                    load(child, child_state, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected_keys)
                    ),
                )
            if missing_keys:
                error_msgs.insert(
                    0,
                    "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing_keys)
                    ),
                )
        if error_msgs:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(error_msgs)
                )
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)
