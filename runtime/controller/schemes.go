package controller

import "math/rand/v2"

// schemes pick an engine index from the loads (outstanding tasks) of the candidate engines,
// which are kept in least-recently-used order. These are ipyparallel's schemes.
var schemes = map[string]func(loads []int) int{
	"leastload":   leastLoad,
	"lru":         func([]int) int { return 0 },
	"plainrandom": func(loads []int) int { return rand.IntN(len(loads)) },
	"twobin":      twoBin,
	"weighted":    weighted,
}

// leastLoad picks the first engine with the fewest outstanding tasks.
func leastLoad(loads []int) int {
	best := 0
	for i, l := range loads {
		if l < loads[best] {
			best = i
		}
	}
	return best
}

// twoBin picks two engines at random and keeps the less recently used one.
func twoBin(loads []int) int {
	return min(rand.IntN(len(loads)), rand.IntN(len(loads)))
}

// weighted picks two engines at random, weighted by 1/load, and keeps the lighter.
func weighted(loads []int) int {
	weights := make([]float64, len(loads))
	total := 0.0
	for i, l := range loads {
		weights[i] = 1 / (1e-6 + float64(l))
		total += weights[i]
	}
	pick := func() int {
		x := rand.Float64() * total
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(weights) - 1
	}
	a, b := pick(), pick()
	if weights[b] > weights[a] {
		return b
	}
	return a
}
