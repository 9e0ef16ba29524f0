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

    /// <summary>Runs the generator; returns the driver result and the compilation with the generated sources added.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(Compilation compilation, string? composeHost = null)
    {
        var driver = CreateDriver(composeHost).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver.GetRunResult(), output);
    }

    public static GeneratorDriver CreateDriver(string? composeHost = null, bool trackSteps = false)
    {
        var options = new TestAnalyzerConfigOptionsProvider(composeHost is null
            ? ImmutableDictionary<string, string>.Empty
            : ImmutableDictionary<string, string>.Empty.Add("build_property.ComposeHost", composeHost));
        return CSharpGeneratorDriver.Create(
            [new ComposeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            optionsProvider: options,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));
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
