"""Names and titles of the analysis outputs (``R/tables/<name>.{csv,md}``, ``R/figures/<name>.{pdf,png}``).

Kept free of heavy imports: the workflow reads these lists while it builds the DAG.
"""

from __future__ import annotations

TABLE_TITLES: dict[str, str] = {
    "table01_token_vs_bit_ratio": "Table 1: token vs bit compression ratio",
    "table02_compression_ratio": "Table 2: compression ratio per method",
    "table03_trivial_models": "Table 3: bits/byte of the uniform and unigram models",
    "table05_seq2seq": "Table 5: AC compression / decompression as sequence-to-sequence tasks",
    "table06_byte_matched": "Table 6: byte-matched vs token-matched EqualInfoAC[b=16;v=65k]",
    "table09_m1_reset": "Table 9: how often M1 is reset in EqualInfoAC[b=16]",
    "table10_gzip_header": "Table 10: GZip with and without header/footer",
    "table11_variance": "Table 11: bits/byte over seeds (mean, sample std)",
    "table12_dataset_sizes": "Table 12: tokens and bytes per compressed dataset",
    "table13_scaled_data": "Table 13: bits/byte with training data scaled with model size (Figure 15)",
    "table15_fig3_values": "Table 15: bits/byte and MFLOPs/byte behind Figure 3",
    "table16_fig5_values": "Table 16: bits/byte and MFLOPs/byte behind Figure 5",
    "table17_fig14_values": "Table 17: greedy vs delayed Equal-Info windows (Figure 14)",
    "fig13_spelling": "Figure 13 (Appendix A.3): spelling accuracy over fine-tuning steps",
    "section51_bitstream": "Section 5.1: M2 over AC's raw bitstream (v=2) against the uniform loss ln 2",
    "welch_tests": "Welch t-tests of the paper's significance statements",
}
TABLE_NAMES = tuple(TABLE_TITLES)

FIGURE_TITLES: dict[str, str] = {
    "fig03_scaling": "Figure 3: bits/byte vs inference FLOPs/byte",
    "fig04_bytes_per_step": "Figure 4: bits/byte vs raw bytes per decoder step",
    "fig05_window_sizes": "Figure 5: EqualInfoAC window sizes",
    "fig06_vocab_size": "Figure 6: vocabulary v=256 vs v=65k",
    "fig10_position_accuracy": "Figure 10: accuracy per position in the Equal-Info window",
    "fig12_m1_reset": "Figure 12: resetting M1 less often",
    "fig13_spelling": "Figure 13: spelling accuracy of fine-tuned M2 models (held-out and training words)",
    "fig14_delay": "Figure 14: greedy vs delayed Equal-Info windows",
    "fig15_scaled_data": "Figure 15: scaling curves with training data scaled with model size",
}
FIGURE_NAMES = tuple(FIGURE_TITLES)
