using BenchmarkDotNet.Running;
using Compose.Benchmarks;

if (args.Length > 0 && args[0] == "--steps")
{
    StepTimes.Print();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(GeneratorBenchmarks).Assembly).Run(args);
