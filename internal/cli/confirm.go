package cli

import "fmt"

// confirmDestructive asks before a command deletes or drops something: it
// returns nil to go on (-y, or yes at the prompt), a usage error off a
// terminal without -y, and a silent failure when the user says no. verb
// and done word the messages ("drop", "dropped").
func confirmDestructive(f *Factory, question, verb, done string) error {
	if f.Yes {
		return nil
	}
	if !f.IO.CanPrompt() {
		return usagef("refusing to %s without confirmation: pass -y (not on a terminal, or --non-interactive)", verb)
	}
	ok, err := f.IO.Confirm(question, false)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(f.IO.ErrOut, "Cancelled; nothing was %s.\n", done)
		return errSilent{code: ExitError}
	}
	return nil
}
