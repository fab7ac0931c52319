"""The ``analysis:`` config section as a typed value with documented defaults.

``config/schema/analysis.schema.json`` validates the raw mapping; ``AnalysisOptions.from_config`` fills
in defaults and rejects unknown keys itself (naming them), so the functions work without the schema too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from nc.analysis.paper import figure3_methods
from nc.methods import DEFAULT_VARIANT, equal_info
from nc.models.sizes import model_size
from nc.sections import reject_unknown_keys


class RunLike(Protocol):
    """What the analysis needs of a training run (``nc.pipeline.config.Run``)."""

    @property
    def slug(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def seed(self) -> int: ...


T = TypeVar("T", bound=RunLike)

DEFAULT_TOLERANCES: dict[str, float] = {
    # A model "does not learn" when its bits/byte is no more than this fraction below the uniform model's.
    "uniform_relative": 0.02,
    # A model "learns" when its bits/byte is at least this fraction below the uniform model's.
    "learned_margin_relative": 0.05,
    # Equal-Info unigram statistics are "near uniform" when unigram gains at most this many bits/byte.
    "near_uniform_unigram_delta": 0.05,
    # Seed variance is "low" when the 95% interval of the largest method's standard deviation (bits/byte)
    # lies below this (the paper's largest, 0.0061 over 5 seeds, has an upper bound of 0.018).
    "variance_max_std": 0.02,
    # The GZip header/footer makes "minimal" difference when bits/byte changes by at most this.
    "gzip_header_bits_per_byte": 0.05,
    # Share of the v=256 -> v=65k gain that the byte-matched model keeps (paper: 84%) that counts as "most".
    "byte_matched_gain_share": 0.5,
    # Accuracy gain over trivial that marks a window position as "unlocked" (Figure 10).
    "position_unlock_accuracy": 0.01,
    # A difference is decided only beyond this many standard deviations of its noise (seed spread and
    # evaluation standard error, ``nc.analysis.tables.bits_per_byte_noise``).
    "noise_z": 2.0,
    # Compression ratios (exact over a split) are ordered only when they differ by more than this fraction.
    "ratio_resolution_relative": 0.01,
}


@dataclass(frozen=True)
class GenerationOptions:
    """The measured Figure 4 (rule generation_latency, ``nc.cli.generate.latency_table``): the M2 of each
    Figure 3 method samples from an empty prompt until its context is full (or for ``steps`` decoder
    steps), once per seed.

    size: the M2 size whose runs generate (None: the smallest size a Figure 3 method was trained at).
    seeds: sampling seeds (one generation each). temperature: sampling temperature. steps: decoder steps
    per generation at most (None: until the context is full).
    """

    size: str | None = None
    seeds: tuple[int, ...] = (0,)
    temperature: float = 1.0
    steps: int | None = None

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> GenerationOptions:
        """Build from the ``analysis.generation`` mapping; unknown keys raise ValueError naming them."""
        section = dict(section or {})
        reject_unknown_keys(cls, "analysis.generation", section)
        seeds = tuple(int(seed) for seed in section.pop("seeds", cls.seeds))
        if not seeds:
            raise ValueError("analysis.generation.seeds: give at least one seed")
        temperature = float(section.pop("temperature", cls.temperature))
        if temperature <= 0:
            raise ValueError(f"analysis.generation.temperature must be positive, got {temperature!r}")
        steps = section.pop("steps", cls.steps)
        if steps is not None and int(steps) < 1:
            raise ValueError(f"analysis.generation.steps must be positive or null, got {steps!r}")
        return cls(seeds=seeds, temperature=temperature, steps=None if steps is None else int(steps), **section)

    def runs(self, runs: Iterable[T]) -> list[T]:
        """Of ``runs`` (``nc.pipeline.config.Run``), the ones that generate: per Figure 3 method, its
        default-variant run of the lowest seed at ``size`` (default: the smallest size any Figure 3 method
        was trained at), in Figure 3's order."""
        order = {method.slug: i for i, method in enumerate(figure3_methods())}
        candidates = [run for run in runs if run.slug in order and run.variant == DEFAULT_VARIANT]
        if not candidates:
            return []
        size = self.size or min((run.size for run in candidates), key=lambda name: model_size(name).nominal_params)
        chosen: dict[str, T] = {}
        for run in sorted((run for run in candidates if run.size == size), key=lambda run: run.seed):
            chosen.setdefault(run.slug, run)
        return sorted(chosen.values(), key=lambda run: order[run.slug])


@dataclass(frozen=True)
class AnalysisOptions:
    """Knobs of the analysis rules.

    scaled_data_fraction: per M2 size, the fraction of training after which that size is read for
        Figure 15 / Table 13; sizes not listed use nominal_params(size) / nominal_params(largest size)
        (the paper: 25m at 3k, 113m at 11k, 403m at 40k, 2b at 200k of 200k steps).
    trivial_accuracy_fraction: Figure 10's "trivial" accuracy is the maximum accuracy reached within this
        fraction of training (the paper: first 2,000 of 200,000 steps = 1%).
    position_method / position_size: the run Figure 10 follows (default: the paper's
        EqualInfoAC[b=64;v=256]; size: the one standing for 403m, else the largest).
    paper_size_map: which paper size each reproduced size stands for; by default the M2 sizes in the runs,
        ordered by nominal parameters, map onto 25m, 113m, 403m, 2b.
    m1_size: M1's size name, for FLOPs/byte of methods that run M1 (the rules pass ``m1.size``).
    alpha: significance threshold of the Welch t-tests (the paper: 0.05).
    tolerances: the claim thresholds (``DEFAULT_TOLERANCES`` documents each).
    tokens: options of the token-level analyses, kept as given.
    generation: the measured Figure 4 (``GenerationOptions``).
    """

    scaled_data_fraction: Mapping[str, float] = field(default_factory=dict)
    trivial_accuracy_fraction: float = 0.01
    position_method: str = equal_info(64).label
    position_size: str | None = None
    paper_size_map: Mapping[str, str] = field(default_factory=dict)
    m1_size: str | None = None
    alpha: float = 0.05
    tolerances: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TOLERANCES))
    tokens: Mapping[str, Any] = field(default_factory=dict)
    generation: GenerationOptions = GenerationOptions()

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> AnalysisOptions:
        """Build from the ``analysis:`` mapping; unknown keys raise ValueError naming them."""
        section = dict(section or {})
        reject_unknown_keys(cls, "analysis", section)
        tolerances = dict(DEFAULT_TOLERANCES)
        for key, value in dict(section.pop("tolerances", {}) or {}).items():
            if key not in DEFAULT_TOLERANCES:
                raise ValueError(f"analysis.tolerances: unknown key {key!r}; known: {sorted(DEFAULT_TOLERANCES)}")
            tolerances[key] = float(value)
        for size, frac in dict(section.get("scaled_data_fraction", {}) or {}).items():
            if not 0 < float(frac) <= 1:
                raise ValueError(f"analysis.scaled_data_fraction.{size} must be in (0, 1], got {frac!r}")
        frac = section.get("trivial_accuracy_fraction", cls.trivial_accuracy_fraction)
        if not 0 < float(frac) <= 1:
            raise ValueError(f"analysis.trivial_accuracy_fraction must be in (0, 1], got {frac!r}")
        if not 0 < float(section.get("alpha", cls.alpha)) < 1:
            raise ValueError(f"analysis.alpha must be in (0, 1), got {section['alpha']!r}")
        generation = GenerationOptions.from_config(section.pop("generation", None))
        return cls(**section, tolerances=tolerances, generation=generation)
