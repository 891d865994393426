package mutants

// shapeMutantsB returns mutants of the shape claims (see All).
func shapeMutantsB() []Mutant { return nil }
