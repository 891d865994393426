package mutants

// shapeMutantsA returns mutants of the shape claims (see All).
func shapeMutantsA() []Mutant { return nil }
