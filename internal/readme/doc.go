// Package readme holds the checks that keep README.md true to the code:
// its quickstart is what `make demo` (scripts/demo.sh) runs, step for step.
package readme
