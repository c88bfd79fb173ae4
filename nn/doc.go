// Package nn is ventral's neural-network engine: layers (ops) with forward and backward passes,
// composed into a Graph of named nodes.
//
// Every node's output can be read after a forward pass (the brain comparison reads layer
// activations this way), and a graph with Steps > 1 is unrolled over time: an input written
// "name@prev" reads that node's output from the previous step (zeros at the first step), which
// gives lateral and top-down recurrence, trained by backpropagation through time.
//
// Ops are stateless between calls: Forward returns a cache that Backward consumes, so one op can
// run at several time steps of an unrolled graph. An op's exported, JSON-tagged fields are its
// configuration, which is what a spec file holds; the op registry maps spec type names to ops.
package nn
