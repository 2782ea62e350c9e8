package builtin

// Fixed-point noise. Coordinates are Q16 lattice units (65536 = one cell) in
// int64; results are Q16. Integer arithmetic wraps and shifts identically on
// every platform, which is what makes renders byte-identical everywhere.

// gradients are 16 unit vectors in Q12, every 22.5 degrees.
var gradients = [16][2]int64{
	{4096, 0}, {3784, 1567}, {2896, 2896}, {1567, 3784},
	{0, 4096}, {-1567, 3784}, {-2896, 2896}, {-3784, 1567},
	{-4096, 0}, {-3784, -1567}, {-2896, -2896}, {-1567, -3784},
	{0, -4096}, {1567, -3784}, {2896, -2896}, {3784, -1567},
}

// Lattice hashing: a point (x, y) with a seed hashes as
// mixLattice(x*latticeX ^ y*latticeY ^ seed); the products of neighbouring
// points differ by the constants, which noise.at exploits.
const latticeX, latticeY = 0x8da6b343, 0xd8163841

// mixLattice spreads the bits of a combined lattice key.
func mixLattice(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x7feb352d
	h ^= h >> 15
	h *= 0x846ca68b
	h ^= h >> 16
	return h
}

// fade is Perlin's 6t^5-15t^4+10t^3 on a Q16 t in [0, 65536].
func fade(t int64) int64 {
	t2 := t * t >> 16
	t3 := t2 * t >> 16
	inner := (t*(6*t-15<<16))>>16 + 10<<16
	return t3 * inner >> 16
}

func dotGrad(h uint32, fx, fy int64) int64 {
	g := &gradients[h&15]
	return (g[0]*fx + g[1]*fy) >> 12
}

// noise is 2-D gradient noise whose lattice can blend two seeds: weight (Q10,
// 0..1024) moves every gradient from the seed's towards the subseed's, the
// way a subseed varies a diffusion model's starting noise.
type noise struct {
	weight int64 // 0 = seed only (the subseed is never consulted)
}

// at returns the noise at (x, y), roughly in [-0.7, 0.7] as Q16.
func (n noise) at(x, y int64, seed, subseed uint32) int64 {
	ix, iy := int32(x>>16), int32(y>>16)
	fx, fy := x&0xFFFF, y&0xFFFF
	gx, gy := fx-65536, fy-65536
	x0 := uint32(ix) * latticeX
	x1 := x0 + latticeX
	y0 := uint32(iy) * latticeY
	y1 := y0 + latticeY
	n00 := dotGrad(mixLattice(x0^y0^seed), fx, fy)
	n10 := dotGrad(mixLattice(x1^y0^seed), gx, fy)
	n01 := dotGrad(mixLattice(x0^y1^seed), fx, gy)
	n11 := dotGrad(mixLattice(x1^y1^seed), gx, gy)
	if n.weight != 0 {
		w := n.weight
		n00 += (dotGrad(mixLattice(x0^y0^subseed), fx, fy) - n00) * w >> 10
		n10 += (dotGrad(mixLattice(x1^y0^subseed), gx, fy) - n10) * w >> 10
		n01 += (dotGrad(mixLattice(x0^y1^subseed), fx, gy) - n01) * w >> 10
		n11 += (dotGrad(mixLattice(x1^y1^subseed), gx, gy) - n11) * w >> 10
	}
	u, v := fade(fx), fade(fy)
	a := n00 + (n10-n00)*u>>16
	b := n01 + (n11-n01)*u>>16
	return a + (b-a)*v>>16
}

// sinTurn returns sin(2*pi*turn/65536) as Q16, from a polynomial that is
// exact at the quarter turns (max error about 1e-4).
func sinTurn(turn int64) int64 {
	t := turn & 0xFFFF
	neg := t >= 0x8000
	t &= 0x7FFF
	if t > 0x4000 {
		t = 0x8000 - t
	}
	z := t << 2 // Q16 position in the quarter wave, 0..1
	z2 := z * z >> 16
	// pi/2, pi^3/48 and a last coefficient chosen so that sin(pi/2) = 1.
	const a, b, c = 102944, 42334, 4926
	r := z * (a - (z2*(b-(c*z2>>16)))>>16) >> 16
	if neg {
		return -r
	}
	return r
}

func cosTurn(turn int64) int64 { return sinTurn(turn + 16384) }

// pow2Sixteenths[i] is 2^(i/16) in Q16.
var pow2Sixteenths = [16]int64{
	65536, 68438, 71468, 74632, 77936, 81386, 84990, 88752,
	92682, 96785, 101070, 105545, 110218, 115098, 120194, 125515,
}

// pow2 returns 2^(e/16) in Q16 for e >= 0.
func pow2(e int) int64 { return pow2Sixteenths[e&15] << (e >> 4) }

func clamp(v, lo, hi int64) int64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
