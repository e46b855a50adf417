"""The rules of the signal verifier (rag/verifier.py), one module per family; `lexicon` holds
the word lists and predicates the others share."""
