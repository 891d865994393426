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

// MarshalText returns the text form of the rule.
func (r Rule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses the text form of exactly one rule, so a scenario
// file can list rules one per line.
func (r *Rule) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	if len(p.Rules) != 1 {
		return &ParseError{Input: string(b), Token: string(b), Msg: "want exactly one rule"}
	}
	*r = p.Rules[0]
	return nil
}
