"""Recipe configuration: flat, typed, overridable, strict.

A recipe's defaults are a flat mapping (its YAML file under
`tfeff/recipes/configs/`). Overrides come, in order, from `--config FILE`
(YAML), the command-line flags, and `--set key=value` (values parsed as
YAML: `--set label_smoothing=0.1`, `--set ema=false`). Unknown keys and
values of the wrong type are errors that name the key, the value and
where it came from.
"""

import os

import yaml


def load_yaml(path):
    """A flat mapping from a YAML file; ValueError if it is not one."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except OSError as error:
        raise ValueError(
            f"Cannot read config file {os.fspath(path)!r}: {error}"
        ) from None
    except yaml.YAMLError as error:
        raise ValueError(
            f"Config file {os.fspath(path)!r} is not valid YAML: {error}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"Config file {os.fspath(path)!r} must hold a mapping of keys to "
            f"values. Received: {type(data).__name__}"
        )
    return data


def _coerce(key, value, default, source):
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            # YAML 1.1 reads `1e-5` (no dot) as a string; it is a float.
            try:
                return float(value)
            except ValueError:
                pass
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
    else:
        return value
    raise ValueError(
        f"{source}: `{key}` must be a {type(default).__name__} like its default "
        f"{default!r}. Received: {key}={value!r}"
    )


def merge(defaults, overrides, source):
    """`defaults` updated with `overrides`; unknown keys are errors."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ValueError(
            f"{source}: unknown config keys {unknown}. Known keys: {sorted(defaults)}"
        )
    merged = dict(defaults)
    for key, value in overrides.items():
        merged[key] = _coerce(key, value, defaults[key], source)
    return merged


def parse_set_options(options):
    """`["key=value", ...]` → dict, values parsed as YAML scalars/lists."""
    parsed = {}
    for option in options or []:
        if "=" not in option:
            raise ValueError(
                f"--set takes key=value. Received: --set {option!r}"
            )
        key, text = option.split("=", 1)
        try:
            parsed[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed[key.strip()] = text
    return parsed


def resolve_config(defaults, *, config_file=None, flags=None, set_options=None):
    """Defaults < `--config FILE` < flags (not None) < `--set`."""
    config = dict(defaults)
    if config_file:
        config = merge(
            config, load_yaml(config_file), f"--config {config_file}"
        )
    if flags:
        given = {k: v for k, v in flags.items() if v is not None}
        config = merge(config, given, "command line")
    config = merge(config, parse_set_options(set_options), "--set")
    return config


def dump_yaml(config):
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=None)
