"""threadguard training: the dataset registry, loaders, training and evaluation (not shipped)."""
