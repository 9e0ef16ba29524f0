using System.Collections.Concurrent;
using Compose.Analyzers;
using Compose.Generator.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit.Abstractions;
using static Compose.Generator.Tests.GeneratorHarness;

namespace Compose.Generator.Tests;

/// <summary>
/// Malformed plugin code yields diagnostics, never a crash: valid plugin sources are mutated (a token deleted,
/// the file truncated, lines swapped, braces dropped, identifiers replaced), seeded so every run checks the
/// same variants, and neither the generator (CS8785) nor the analyzers (AD0001) may throw on any of them.
/// </summary>
public sealed class RobustnessTests(ITestOutputHelper output)
{
    private const int Variants = 2_000;
    private const int Seed = 20261123;

    private static readonly string[] Seeds =
    [
        """
        namespace Fuzz;

        [ServerPlugin("hello-world", Name = "Hello World", Description = "A minimal server plugin")]
        public sealed class HelloWorldPlugin(ILogger<HelloWorldPlugin> logger) : IServerPlugin
        {
            public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => services.AddSingleton(TimeProvider.System);

            public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
                router.MapGet("/hello", () => new { message = "Hello from server plugin!", time = DateTimeOffset.UtcNow });
                logger.LogInformation("loaded");
                return Task.CompletedTask;
            }

            public Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }
        """,
        """
        namespace Fuzz;

        [ServerPlugin("notes")]
        public sealed class NotesPlugin : IServerPlugin
        {
            private IEndpointRouteBuilder? _router;
            private static readonly string[] Paths = ["/a", "/b"];

            public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
            {
                var group = router.MapGroup("/notes");
                foreach (var path in Paths) { group.MapGet(path, () => path); }
                void Local() => router.MapGet("/local", () => "l");
                Local();
                Array.ForEach(Paths, p => router.MapPost(p, () => "p"));
                try { await Task.Delay(1, cancellationToken); } catch (OperationCanceledException) { router.MapGet("/c", () => "c"); }
                await using (new Res()) { }
                _ = Task.Run(() => router.MapGet("/later", () => "x"));
                _router = router;
                Helper(router);
            }

            private static void Helper(IEndpointRouteBuilder r) => r.MapGet("/h", () => "h");
        }

        public sealed class Res : IAsyncDisposable { public ValueTask DisposeAsync() => ValueTask.CompletedTask; }

        [ServerPlugin("Second.Plugin")]
        internal abstract class Broken<T> { public Broken(int a) { } public Broken(string b) { } public static int ConfigureServices() => 0; }
        """,
    ];

    [Fact]
    public void GeneratorAndAnalyzersNeverThrowOnTwoThousandMutatedPlugins()
    {
        var random = new Random(Seed);
        var variants = Enumerable.Range(0, Variants).Select(i => Mutate(Seeds[i % Seeds.Length], random)).ToList();
        var failures = new ConcurrentBag<string>();

        Parallel.ForEach(variants, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (variant, _, index) =>
        {
            var compilation = Compile($"Fuzz{index}", index % 2 == 0 ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, null, variant);
            var (result, updated) = Run(compilation);
            foreach (var generatorResult in result.Results.Where(r => r.Exception is not null))
            {
                failures.Add($"variant {index}: generator threw {generatorResult.Exception}\n{variant}");
            }

            var analyzed = updated.WithAnalyzers([new RouteRegistrationAnalyzer(), new PluginDeclarationAnalyzer(), new RoutePrefixAnalyzer()], new CompilationWithAnalyzersOptions(
                new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: false));
            foreach (var crash in analyzed.GetAllDiagnosticsAsync().GetAwaiter().GetResult().Where(d => d.Id is "AD0001" or "CS8785"))
            {
                failures.Add($"variant {index}: {crash.GetMessage()}\n{variant}");
            }
        });

        output.WriteLine($"{variants.Count} mutated plugin sources (seed {Seed}) compiled with the generator and analyzers; {failures.Count} crashed.");
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Take(3)));
    }

    private static string Mutate(string source, Random random)
    {
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            var tokens = CSharpSyntaxTree.ParseText(source).GetRoot().DescendantTokens().Where(t => t.Span.Length > 0).ToList();
            if (tokens.Count == 0)
            {
                break;
            }

            switch (random.Next(5))
            {
                case 0: // delete a token
                    var deleted = tokens[random.Next(tokens.Count)];
                    source = source.Remove(deleted.SpanStart, deleted.Span.Length);
                    break;
                case 1: // truncate the file
                    source = source[..random.Next(source.Length)];
                    break;
                case 2: // swap two lines
                    var lines = source.Split('\n');
                    var (a, b) = (random.Next(lines.Length), random.Next(lines.Length));
                    (lines[a], lines[b]) = (lines[b], lines[a]);
                    source = string.Join('\n', lines);
                    break;
                case 3: // drop a brace
                    var braces = tokens.Where(t => t.IsKind(SyntaxKind.OpenBraceToken) || t.IsKind(SyntaxKind.CloseBraceToken)).ToList();
                    if (braces.Count > 0)
                    {
                        var brace = braces[random.Next(braces.Count)];
                        source = source.Remove(brace.SpanStart, 1);
                    }

                    break;
                default: // replace an identifier or literal with a random one
                    var names = tokens.Where(t => t.IsKind(SyntaxKind.IdentifierToken) || t.IsKind(SyntaxKind.StringLiteralToken)).ToList();
                    var name = names[random.Next(names.Count)];
                    var replacement = name.IsKind(SyntaxKind.StringLiteralToken)
                        ? "\"" + RandomWord(random) + "\""
                        : RandomWord(random);
                    source = source.Remove(name.SpanStart, name.Span.Length).Insert(name.SpanStart, replacement);
                    break;
            }
        }

        return source;
    }

    private static string RandomWord(Random random)
    {
        const string alphabet = "abcXYZ_09-. ";
        var length = random.Next(0, 9);
        return new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()) is { Length: > 0 } word && char.IsLetter(word[0])
            ? word.Replace(" ", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).Replace(".", string.Empty, StringComparison.Ordinal)
            : "x" + length;
    }
}
