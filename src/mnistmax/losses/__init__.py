"""Loss functions: pure maths on tensors, each citing its paper; wiring lives in methods/.

May import: eval (distances). Imported by methods.
"""
