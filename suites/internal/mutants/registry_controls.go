package mutants

// shapeControls returns the controls of the shape claims (see Controls).
func shapeControls() []Mutant { return nil }
