"""Loss functions: pure maths on tensors, each citing its paper; wiring lives in methods/."""
