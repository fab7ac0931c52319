"""Corpus readers, example construction, baseline tokenisers and on-disk token datasets.

* ``readers``: C4-format json.gz shards (C4 itself or the embedded Shakespeare corpus), streamed;
* ``examples``: documents -> long sequences -> fixed-length raw byte examples, and their ``.npz`` files;
* ``tokenizers``: the Bytes and SentencePiece baselines;
* ``method_datasets``: raw examples -> M2 ``TokenDataset``s per method (trimmed to the sequence length),
  the sequence-to-sequence datasets of Table 5, M1's byte datasets;
* ``dataset``: the ``TokenDataset`` on-disk format.
"""
from nc.data.examples import END_OF_DOCUMENT, build_examples, load_examples, save_examples
from nc.data.readers import EMBEDDED_CORPUS, iter_documents

__all__ = ["END_OF_DOCUMENT", "EMBEDDED_CORPUS", "build_examples", "iter_documents", "load_examples", "save_examples"]
