namespace MannLab.Data;

/// <summary>
/// A small, fast, seedable generator (SplitMix64) whose stream is fixed by its seed on every
/// platform and .NET version, unlike System.Random. Episodes derive theirs from
/// (seed, stream, episode index), so any episode can be regenerated without generator state.
/// </summary>
public struct DetRandom(ulong seed)
{
    private ulong _state = seed;

    /// <summary>A seed mixed from several keys, e.g. (run seed, stream, episode index).</summary>
    public static ulong Seed(params long[] keys)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (var k in keys) h = Mix(h ^ Mix((ulong)k + 0x632BE59BD9B4E019UL));
        return h;
    }

    public static DetRandom For(params long[] keys) => new(Seed(keys));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong() => Mix(_state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, n), without modulo bias (Lemire's method).</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive");
        var bound = (ulong)n;
        while (true)
        {
            var product = (UInt128)NextULong() * bound;
            var low = (ulong)product;
            if (low >= bound || low >= (0UL - bound) % bound) return (int)(product >> 64);
        }
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [-limit, limit].</summary>
    public double Symmetric(double limit) => limit == 0 ? 0 : (NextDouble() * 2 - 1) * limit;

    /// <summary>Standard normal (Box-Muller).</summary>
    public double Gaussian()
    {
        var u = 1.0 - NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * NextDouble());
    }

    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>k distinct values from [0, n), in random order.</summary>
    public int[] Distinct(int n, int k)
    {
        if (k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"cannot draw {k} distinct values from {n}");
        var pool = new int[n];
        for (var i = 0; i < n; i++) pool[i] = i;
        for (var i = 0; i < k; i++)
        {
            var j = i + Next(n - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..k];
    }
}
