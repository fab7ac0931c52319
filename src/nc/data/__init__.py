"""Corpus readers, sharded example splits, baseline tokenisers and on-disk token datasets.

* ``readers``: C4-format json.gz shards (C4 itself or the embedded Shakespeare corpus), streamed;
* ``examples``: documents -> long sequences -> fixed-length raw byte examples;
* ``shards``: sharded, memory-mappable example files, split manifests and random access to them;
* ``splits``: the corpus streamed into parts, then shuffled into the m1_train / m2_train / valid splits;
* ``tokenizers``: the Bytes and SentencePiece baselines;
* ``method_datasets``: raw examples -> M2 ``TokenDataset``s per method (trimmed to the sequence length),
  the sequence-to-sequence datasets of Table 5, M1's packed byte rows;
* ``dataset``: the ``TokenDataset`` on-disk format, sharded datasets read in place.
"""

from nc.data.examples import END_OF_DOCUMENT
from nc.data.readers import EMBEDDED_CORPUS, iter_documents
from nc.data.shards import ExampleSplit

__all__ = ["END_OF_DOCUMENT", "EMBEDDED_CORPUS", "ExampleSplit", "iter_documents"]
