"""`strotss gui`: a local web page for guided region edits (paint regions, preview, refine with the optimizer)."""
