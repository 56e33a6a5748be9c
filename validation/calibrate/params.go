package calibrate

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/ambientsim/ambientsim/models"
)

// quantity returns the profile Quantity at a dotted YAML path such as
// "ztunnel.per_message_cpu".
func quantity(p *models.Profile, key string) (*models.Quantity, error) {
	v := reflect.ValueOf(p).Elem()
	for _, part := range strings.Split(key, ".") {
		if v.Kind() != reflect.Struct {
			return nil, fmt.Errorf("calibrate: profile field %q: %q is not a section", key, part)
		}
		found := false
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0] == part {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("calibrate: profile field %q: no field %q", key, part)
		}
	}
	q, ok := v.Addr().Interface().(*models.Quantity)
	if !ok {
		return nil, fmt.Errorf("calibrate: profile field %q is not a parameter", key)
	}
	return q, nil
}

// unitOf returns the unit the schema wants at key.
func unitOf(p *models.Profile, key string) string {
	q, err := quantity(p, key)
	if err != nil {
		return ""
	}
	return q.Unit
}

// cloneProfile deep-copies a profile (it holds only values and strings).
func cloneProfile(p *models.Profile) *models.Profile {
	c := *p
	c.Raw = nil
	return &c
}

// withValues returns a copy of p with the given parameter values.
func withValues(p *models.Profile, vals map[string]float64) (*models.Profile, error) {
	c := cloneProfile(p)
	for k, v := range vals {
		q, err := quantity(c, k)
		if err != nil {
			return nil, err
		}
		q.Value = v
	}
	return c, nil
}
