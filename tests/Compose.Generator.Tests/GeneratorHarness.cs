using System.Collections.Immutable;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compose.Generator.Tests;

/// <summary>Builds real C# compilations against the ASP.NET Core shared framework and runs the Compose generator on them.</summary>
internal static class GeneratorHarness
{
    public static ImmutableArray<MetadataReference> FrameworkReferences { get; } = LoadReferences();

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.IO;
        using System.Linq;
        using System.Net.Http;
        using System.Threading;
        using System.Threading.Tasks;
        using Compose;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Routing;
        using Microsoft.Extensions.Configuration;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Logging;

        """;

    /// <summary>Creates a compilation of the given sources (each prefixed with the common usings).</summary>
    public static CSharpCompilation Compile(string assemblyName, OutputKind kind, IEnumerable<MetadataReference>? extraReferences, params string[] sources)
    {
        var trees = sources.Select((source, i) => CSharpSyntaxTree.ParseText(Usings + source, ParseOptions, path: $"/src/{assemblyName}/File{i}.cs"));
        if (kind != OutputKind.DynamicallyLinkedLibrary)
        {
            trees = trees.Append(CSharpSyntaxTree.ParseText("internal static class EntryPoint { public static void Main() { } }", ParseOptions, path: $"/src/{assemblyName}/EntryPoint.cs"));
        }

        return CSharpCompilation.Create(
            assemblyName,
            trees,
            FrameworkReferences.AddRange(extraReferences ?? []),
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable, generalDiagnosticOption: ReportDiagnostic.Default));
    }

    /// <summary>
    /// Runs the generator; returns the driver result and the compilation with the generated sources added. Every run
    /// is checked twice over, as NetEscapades.EnumGenerators' TestHelpers do: a second run on a clone of the
    /// compilation must find every tracked step Cached or Unchanged and write the same sources, and no tracked step
    /// output may hold a compilation, symbol, syntax node, syntax tree, semantic model or location.
    /// </summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(Compilation compilation, string? composeHost = null, IReadOnlyDictionary<string, string>? buildProperties = null)
    {
        var driver = CreateDriver(composeHost, trackSteps: true, buildProperties).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var result = driver.GetRunResult();
        AssertCachedOnClone(driver, compilation, result);
        AssertNoBannedObjects(result);
        return (result, output);
    }

    public static GeneratorDriver CreateDriver(string? composeHost = null, bool trackSteps = false, IReadOnlyDictionary<string, string>? buildProperties = null)
    {
        var properties = ImmutableDictionary<string, string>.Empty;
        if (composeHost is not null)
        {
            properties = properties.Add("build_property.ComposeHost", composeHost);
        }

        foreach (var (key, value) in buildProperties ?? ImmutableDictionary<string, string>.Empty)
        {
            properties = properties.SetItem("build_property." + key, value);
        }

        return CSharpGeneratorDriver.Create(
            [new ComposeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: new TestAnalyzerConfigOptionsProvider(properties),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));
    }

    /// <summary>The step names of <see cref="TrackingNames"/>: the steps the generator names itself.</summary>
    public static IReadOnlyList<string> TrackedStepNames { get; } = typeof(TrackingNames)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToList();

    private static void AssertCachedOnClone(GeneratorDriver driver, Compilation compilation, GeneratorDriverRunResult first)
    {
        var second = driver.RunGenerators(compilation.Clone()).GetRunResult();
        Assert.Equal(
            first.GeneratedTrees.Select(t => t.ToString()),
            second.GeneratedTrees.Select(t => t.ToString()));
        var steps = second.Results.Single().TrackedSteps;
        foreach (var name in TrackedStepNames.Where(steps.ContainsKey))
        {
            foreach (var output in steps[name].SelectMany(step => step.Outputs))
            {
                Assert.True(
                    output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                    $"Step {name} was {output.Reason} on a cloned compilation: its model is not value-equatable.");
            }
        }
    }

    private static void AssertNoBannedObjects(GeneratorDriverRunResult result)
    {
        var steps = result.Results.Single().TrackedSteps;
        foreach (var name in TrackedStepNames.Where(steps.ContainsKey))
        {
            foreach (var output in steps[name].SelectMany(step => step.Outputs))
            {
                var banned = FindBanned(output.Value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                Assert.True(banned is null, $"Step {name} holds {banned}: models must be plain values (caching and memory).");
            }
        }
    }

    private static string? FindBanned(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return null;
        }

        if (value is Compilation or ISymbol or SyntaxNode or SyntaxTree or SemanticModel or Location)
        {
            return $"a {value.GetType().Name} at {path}";
        }

        var type = value.GetType();
        if (type.Namespace?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true)
        {
            return null; // Roslyn value types such as DiagnosticDescriptor: not walked further.
        }

        if (value is System.Collections.IEnumerable items)
        {
            var i = 0;
            foreach (var item in items)
            {
                if (FindBanned(item, $"{path}[{i++}]", seen) is { } found)
                {
                    return found;
                }
            }

            return null;
        }

        foreach (var property in type.GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            if (FindBanned(property.GetValue(value), $"{path}.{property.Name}", seen) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Compiles a plugin library with the generator and returns it as a metadata reference, as a host would see its package.</summary>
    public static MetadataReference BuildLibrary(string assemblyName, params string[] sources)
    {
        var (_, output) = Run(Compile(assemblyName, OutputKind.DynamicallyLinkedLibrary, null, sources));
        using var stream = new MemoryStream();
        var emit = output.Emit(stream);
        if (!emit.Success)
        {
            // Libraries with broken Compose rules are emitted anyway: their errors are what the host must see.
            var blocking = emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("CMP", StringComparison.Ordinal)).ToList();
            Assert.True(blocking.Count == 0, string.Join(Environment.NewLine, blocking));
            var suppressed = ((CSharpCompilation)output).WithOptions(((CSharpCompilation)output).Options.WithSpecificDiagnosticOptions(
                emit.Diagnostics.Where(d => d.Id.StartsWith("CMP", StringComparison.Ordinal)).Select(d => d.Id).Distinct().ToDictionary(id => id, _ => ReportDiagnostic.Suppress)));
            stream.SetLength(0);
            Assert.True(suppressed.Emit(stream).Success);
        }

        return MetadataReference.CreateFromImage(stream.ToArray());
    }

    public static string GeneratedSource(GeneratorDriverRunResult result, string hintName)
        => result.Results.SelectMany(r => r.GeneratedSources).Single(s => s.HintName == hintName).SourceText.ToString();

    public static bool HasSource(GeneratorDriverRunResult result, string hintName)
        => result.Results.SelectMany(r => r.GeneratedSources).Any(s => s.HintName == hintName);

    /// <summary>Errors and warnings of the compilation including generated code, excluding Compose's own diagnostics.</summary>
    public static IReadOnlyList<Diagnostic> CompilerProblems(Compilation output)
        => output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.Id.StartsWith("CMP", StringComparison.Ordinal)).ToList();

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var wanted = paths.Where(p =>
        {
            var name = Path.GetFileName(p);
            return name.StartsWith("System.", StringComparison.Ordinal)
                   || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)
                   || name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal)
                   || name is "netstandard.dll" or "mscorlib.dll" or "Microsoft.Win32.Primitives.dll";
        });
        return wanted
            .Append(typeof(ServerPluginAttribute).Assembly.Location)
            .Distinct()
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }
}
