package mutants

// shapeControls returns the controls of the shape claims (see Controls).
func shapeControls() []Mutant {
	var out []Mutant
	for _, cs := range [][]Mutant{
		referenceControls(),
		errgroupControls(),
		firstSuccessControls(),
		deadlineControls(),
		quorumControls(),
	} {
		out = append(out, cs...)
	}
	return out
}
