"""fuchi 扶持: policy-as-code for government support measures, on clingo."""

__version__ = "0.1.0"
