package faults

// MarshalText returns the text form of the plan.
func (p Plan) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses the text form, so a plan can be a string field of a
// YAML or JSON scenario file.
func (p *Plan) UnmarshalText(b []byte) error {
	q, err := Parse(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
