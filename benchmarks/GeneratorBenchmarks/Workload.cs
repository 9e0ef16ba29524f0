using System.Collections.Immutable;
using System.Globalization;
using Compose.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compose.Benchmarks;

/// <summary>
/// Builds the compilations the benchmark runs the generator over, the way GeneratorHarness in the generator tests does:
/// the framework references come from TRUSTED_PLATFORM_ASSEMBLIES, plugin libraries are compiled with the generator
/// (so each carries its manifest) and emitted to metadata images.
/// </summary>
internal static class Workload
{
    public const int PluginAssemblies = 50;
    public const int PluginsPerAssembly = 20;
    public const int OwnPlugins = 20;

    public static CSharpParseOptions ParseOptions { get; } = new(LanguageVersion.Latest);

    public const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Compose;
        using Microsoft.AspNetCore.Builder;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.Routing;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Logging;

        """;

    public static ImmutableArray<MetadataReference> FrameworkReferences { get; } = LoadFrameworkReferences();

    /// <summary>The source of one plugin: [ServerPlugin("p-NNNN")], a constructor taking ILogger&lt;T&gt;, InitAsync mapping two routes.</summary>
    public static string PluginSource(string @namespace, string idPrefix, int number, string? name = null)
    {
        var n = number.ToString("D4", CultureInfo.InvariantCulture);
        var nameArgument = name is null ? string.Empty : $", Name = \"{name}\"";
        return Usings + $$"""
            namespace {{@namespace}};

            [ServerPlugin("{{idPrefix}}-{{n}}"{{nameArgument}})]
            public sealed class Plugin{{n}} : IServerPlugin
            {
                private readonly ILogger<Plugin{{n}}> _logger;

                public Plugin{{n}}(ILogger<Plugin{{n}}> logger) => _logger = logger;

                public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
                {
                    router.MapGet("/ping", () => "pong {{n}}");
                    router.MapGet("/items/{id:int}", (int id) => Results.Ok(new { id, plugin = {{number}} }));
                    _logger.LogInformation("Plugin {{n}} mapped its routes");
                    return Task.CompletedTask;
                }
            }
            """;
    }

    /// <summary>Sources that have nothing to do with plugins, as a host has (services, options, a Program).</summary>
    public static IReadOnlyList<string> UnrelatedSources(int version = 0) =>
    [
        Usings + """
            namespace Host;

            internal static class Program
            {
                public static void Main(string[] args)
                {
                    var builder = WebApplication.CreateSlimBuilder(args);
                    builder.Services.AddSingleton<Clock>();
                    var app = builder.Build();
                    app.MapGet("/", (Clock clock) => clock.Now().ToString("O"));
                    app.Run();
                }
            }
            """,
        Usings + $$"""
            namespace Host;

            public sealed class Clock
            {
                public DateTimeOffset Now() => DateTimeOffset.UtcNow.AddSeconds({{version}});
            }
            """,
        Usings + """
            namespace Host;

            public sealed record Settings(string Name, int Port, IReadOnlyList<string> Origins)
            {
                public bool IsLocal => Origins.Any(o => o.Contains("localhost", StringComparison.Ordinal));
            }
            """,
        Usings + """
            namespace Host;

            public static class Text
            {
                public static string Slug(string value) => new(value.ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray());
            }
            """,
    ];

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: path);

    public static CSharpCompilation Compile(string assemblyName, OutputKind kind, IEnumerable<MetadataReference> references, IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create(
            assemblyName,
            trees,
            FrameworkReferences.AddRange(references),
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>A driver with the Compose generator, as the compiler creates one for a build.</summary>
    public static GeneratorDriver CreateDriver(bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new ComposeGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Compiles the 50 plugin libraries with the generator and returns their images (metadata, as a host sees a package).</summary>
    public static IReadOnlyList<byte[]> BuildPluginImages()
    {
        var images = new byte[PluginAssemblies][];
        Parallel.For(0, PluginAssemblies, a =>
        {
            var assemblyName = $"Plugins{a:D2}";
            var trees = Enumerable.Range(0, PluginsPerAssembly)
                .Select(i => a * PluginsPerAssembly + i + 1)
                .Select(n => Parse(PluginSource(assemblyName, "p", n), $"/src/{assemblyName}/Plugin{n:D4}.cs"));
            var compilation = Compile(assemblyName, OutputKind.DynamicallyLinkedLibrary, [], trees);
            CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
            Require(generatorDiagnostics, assemblyName + " (generator)");
            if (!output.SyntaxTrees.Any(t => t.FilePath.EndsWith("Compose.Manifest.g.cs", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"{assemblyName}: the generator wrote no manifest.");
            }

            using var stream = new MemoryStream();
            var emit = output.Emit(stream);
            Require(emit.Diagnostics, assemblyName);
            images[a] = stream.ToArray();
        });
        return images;
    }

    public static ImmutableArray<MetadataReference> References(IEnumerable<byte[]> images) =>
        images.Select(image => (MetadataReference)MetadataReference.CreateFromImage(image)).ToImmutableArray();

    /// <summary>The host: a console application referencing every plugin library, with unrelated sources and optionally 20 plugins of its own.</summary>
    public static CSharpCompilation Host(ImmutableArray<MetadataReference> pluginReferences, bool withOwnPlugins)
    {
        var trees = UnrelatedSources().Select((source, i) => Parse(source, $"/src/Host/Unrelated{i}.cs")).ToList();
        if (withOwnPlugins)
        {
            trees.AddRange(Enumerable.Range(1, OwnPlugins).Select(n => OwnPluginTree(n, $"Own {n}")));
        }

        return Compile("Host", OutputKind.ConsoleApplication, pluginReferences, trees);
    }

    public static SyntaxTree OwnPluginTree(int number, string name) => Parse(PluginSource("Host.Plugins", "h", number, name), OwnPluginPath(number));

    public static string OwnPluginPath(int number) => $"/src/Host/Plugins/Plugin{number:D4}.cs";

    public static SyntaxTree Tree(Compilation compilation, string path) => compilation.SyntaxTrees.Single(t => t.FilePath == path);

    private static void Require(IEnumerable<Diagnostic> diagnostics, string what)
    {
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error || (d.Severity == DiagnosticSeverity.Warning && d.Id.StartsWith("CMP", StringComparison.Ordinal))).ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"{what}:{Environment.NewLine}{string.Join(Environment.NewLine, errors.Take(10))}");
        }
    }

    private static ImmutableArray<MetadataReference> LoadFrameworkReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var wanted = paths.Where(p =>
        {
            // Only the shared frameworks (dotnet/shared/{framework}/{version}/): not the benchmark's own packages.
            if (Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(p)))) != "shared")
            {
                return false;
            }

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
