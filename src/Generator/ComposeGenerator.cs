using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Compose.Generator;

/// <summary>
/// The Compose incremental generator. In every project that references Compose.Abstractions it writes the
/// manifest of the project's own <c>[ServerPlugin]</c> classes; in a host (an executable, or a project with
/// <c>ComposeHost=true</c>) it also writes <c>AddServerPlugins</c>, <c>MapServerPlugins</c> and the plugin list,
/// composed from its own plugins and the manifests of its references.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ComposeGenerator : IIncrementalGenerator
{
    /// <summary>The generator version written into generated code and plugin manifests.</summary>
    internal static readonly string Version = ReadVersion();

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // The per-plugin rules are reported by PluginDeclarationAnalyzer on their declarations; this pipeline only
        // keeps their ids, for the manifest, so a host refuses a plugin whose author suppressed an error.
        var own = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                PluginParser.ServerPluginAttributeName,
                static (node, _) => node is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax,
                static (syntax, cancellationToken) => PluginParser.ParseOwn(syntax, cancellationToken))
            .WithTrackingName(TrackingNames.OwnPlugins);

        var assemblyName = context.CompilationProvider.Select(static (compilation, _) => compilation.AssemblyName ?? string.Empty);
        var webAssetsBase = context.AnalyzerConfigOptionsProvider
            .Combine(assemblyName)
            .Select(static (input, _) => WebAssetsBase(input.Left.GlobalOptions, input.Right));
        var ownPlugins = own
            .Collect()
            .Combine(webAssetsBase)
            .Select(static (input, _) => Composition.OwnPlugins(input.Left, input.Right))
            .WithTrackingName(TrackingNames.OwnPluginList);

        context.RegisterSourceOutput(ownPlugins, static (spc, plugins) =>
        {
            if (plugins.Count > 0)
            {
                spc.AddSource("Compose.Manifest.g.cs", SourceEmitter.EmitManifest(plugins));
            }
        });

        var hostSetting = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.ComposeHost", out var value) && bool.TryParse(value, out var isHost)
                ? isHost
                : (bool?)null)
            .WithTrackingName(TrackingNames.HostSetting);

        // <ComposeExclude Include="id" /> items reach the generator joined with ',' by the package's props
        // (_ComposeExcludeIds); ComposeExcludedPlugins is a property of class names (';' in the project, ',' here).
        var excluded = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => Exclusions.Parse(
                options.GlobalOptions.TryGetValue("build_property._ComposeExcludeIds", out var ids) ? ids : null,
                options.GlobalOptions.TryGetValue("build_property.ComposeExcludedPlugins", out var classes) ? classes : null))
            .WithTrackingName(TrackingNames.ExcludedPlugins);

        // Every edit makes a new compilation: only cheap reads of it run again.
        var identity = context.CompilationProvider
            .Select(static (compilation, _) => PluginParser.ParseHost(compilation))
            .WithTrackingName(TrackingNames.HostIdentity);

        // The referenced manifests are read when the references change (or how they are read), never on an edit of
        // the host's source: MetadataReferencesProvider keeps a reference Cached while the compilation holds the same
        // reference object, so this step runs on the first build and after a reference was added, removed or rebuilt.
        var referenceContext = context.CompilationProvider
            .Select(static (compilation, _) => (compilation.AssemblyName ?? string.Empty, compilation.Options.MetadataImportOptions, Composition.IsExecutable(compilation.Options.OutputKind)))
            .Combine(hostSetting)
            .Select(static (input, _) => new ReferenceContext(input.Left.Item1, input.Left.Item2, input.Right ?? input.Left.Item3))
            .WithTrackingName(TrackingNames.ReferenceContext);
        var manifests = context.MetadataReferencesProvider
            .Collect()
            .Combine(referenceContext)
            .Select(static (input, cancellationToken) => PluginParser.ParseReferences(input.Left, input.Right, cancellationToken))
            .WithTrackingName(TrackingNames.ReferencedManifests);

        var host = ownPlugins
            .Combine(identity)
            .Combine(manifests)
            .Combine(hostSetting)
            .Combine(excluded)
            .Select(static (input, _) => Composition.Host(input.Left.Left.Left.Left, input.Left.Left.Left.Right, input.Left.Left.Right, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.Host);

        context.RegisterSourceOutput(host, static (spc, model) =>
        {
            foreach (var diagnostic in model.Diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            if (model.Emit)
            {
                spc.AddSource("Compose.Host.g.cs", SourceEmitter.EmitHost(model.Plugins));
            }
        });
    }

    /// <summary>
    /// Where this project's static web assets land in a host's web root: <c>StaticWebAssetBasePath</c>, else
    /// <c>_content/{PackageId}</c> (the Razor SDK's default), the package id defaulting to the assembly name.
    /// </summary>
    private static string WebAssetsBase(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions options, string assemblyName)
    {
        if (options.TryGetValue("build_property.StaticWebAssetBasePath", out var basePath) && !string.IsNullOrWhiteSpace(basePath))
        {
            return basePath.Trim().Trim('/');
        }

        return "_content/" + (options.TryGetValue("build_property.PackageId", out var packageId) && !string.IsNullOrWhiteSpace(packageId) ? packageId.Trim() : assemblyName);
    }

    private static string ReadVersion()
    {
        var informational = typeof(ComposeGenerator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return typeof(ComposeGenerator).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        }

        var plus = informational!.IndexOf('+');
        return plus >= 0 ? informational.Substring(0, plus) : informational;
    }
}

/// <summary>What the host emitter writes: the composable plugins in id order, or nothing.</summary>
internal sealed record HostModel(bool Emit, EquatableArray<PluginModel> Plugins, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// What a host leaves out at build time: plugin ids from <c>&lt;ComposeExclude Include="id" /&gt;</c> items, and plugin
/// classes (full names) from the <c>ComposeExcludedPlugins</c> property, each list distinct and sorted.
/// </summary>
internal sealed record Exclusions(EquatableArray<string> Ids, EquatableArray<string> ClassNames)
{
    /// <summary>Reads both settings; entries are separated by ',' or ';', blanks are ignored.</summary>
    public static Exclusions Parse(string? ids, string? classNames) => new(Split(ids), Split(classNames));

    /// <summary>Whether the plugin is left out, and by which setting (for messages): null when it is composed.</summary>
    public string? ExcludedBy(PluginModel plugin)
        => Ids.Contains(plugin.Id) ? $"<ComposeExclude Include=\"{plugin.Id}\" />"
            : ClassNames.Contains(plugin.DisplayTypeName) ? $"<ComposeExcludedPlugins>{plugin.DisplayTypeName}</ComposeExcludedPlugins>"
            : null;

    /// <summary>CMP0021 for every entry that matches none of <paramref name="plugins"/> (all the host saw, composable or not).</summary>
    public IEnumerable<DiagnosticInfo> Unmatched(IReadOnlyCollection<PluginModel> plugins)
    {
        var ids = new HashSet<string>(plugins.Select(p => p.Id), StringComparer.Ordinal);
        var known = ids.Count == 0 ? "none" : string.Join(", ", ids.OrderBy(id => id, StringComparer.Ordinal).Select(id => $"'{id}'"));
        foreach (var id in Ids.Where(id => !ids.Contains(id)))
        {
            var byClass = plugins.FirstOrDefault(p => string.Equals(p.DisplayTypeName, id, StringComparison.Ordinal));
            yield return byClass is not null ? DiagnosticInfo.Create(ComposeDiagnostics.ExcludedIdIsAClassName, id, byClass.Id)
                : PluginId.IsValid(id) ? DiagnosticInfo.Create(ComposeDiagnostics.ExcludedIdMatchesNothing, id, known)
                : DiagnosticInfo.Create(ComposeDiagnostics.ExcludedIdNotAnId, id, known);
        }

        foreach (var name in ClassNames.Where(name => !plugins.Any(p => string.Equals(p.DisplayTypeName, name, StringComparison.Ordinal))))
        {
            yield return DiagnosticInfo.Create(ComposeDiagnostics.ExcludedClassMatchesNothing, name);
        }
    }

    private static EquatableArray<string> Split(string? value)
        => (value ?? string.Empty)
            .Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(entry => entry.Trim())
            .Where(entry => entry.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(entry => entry, StringComparer.Ordinal)
            .ToEquatableArray();
}

/// <summary>Combines plugin models into what is composed, and finds the rules that span plugins.</summary>
internal static class Composition
{
    /// <summary>The compilation's own plugins in id order; plugins that share an id are marked with CMP0002 for the manifest.</summary>
    public static EquatableArray<PluginModel> OwnPlugins(ImmutableArray<PluginModel?> parsed, string webAssetsBase)
    {
        var plugins = parsed
            .Where(p => p is not null)
            .Select(p => p!.EntryScript is null ? p : p with { WebAssetsPath = webAssetsBase })
            .OrderBy(p => p.Id, StringComparer.Ordinal).ThenBy(p => p.DisplayTypeName, StringComparer.Ordinal).ToList();

        // PluginDeclarationAnalyzer reports the duplicates on their ids, with the same rule.
        var duplicateId = DiagnosticIds.DuplicatePluginId;
        var original = plugins.ToList();
        foreach (var (first, duplicate) in PluginRules.Duplicates(Enumerable.Range(0, original.Count), i => original[i].Id, i => original[i].DisplayTypeName))
        {
            foreach (var index in new[] { first, duplicate })
            {
                if (!plugins[index].Errors.Contains(duplicateId))
                {
                    plugins[index] = plugins[index] with
                    {
                        IsComposable = false,
                        Errors = plugins[index].Errors.Append(duplicateId).OrderBy(e => e, StringComparer.Ordinal).ToEquatableArray(),
                    };
                }
            }
        }

        return plugins.ToEquatableArray();
    }

    /// <summary>Whether a project of this output kind is a host unless <c>ComposeHost</c> says otherwise.</summary>
    public static bool IsExecutable(OutputKind kind) => kind is OutputKind.ConsoleApplication or OutputKind.WindowsApplication or OutputKind.WindowsRuntimeApplication;

    public static HostModel Host(EquatableArray<PluginModel> own, HostIdentity identity, ReferencedManifests references, bool? hostSetting, Exclusions exclusions)
    {
        if (!references.ReferencesCompose || !(hostSetting ?? identity.IsExecutable))
        {
            return new HostModel(false, EquatableArray<PluginModel>.Empty, EquatableArray<DiagnosticInfo>.Empty);
        }

        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        diagnostics.AddRange(exclusions.Unmatched(own.Concat(references.Plugins).ToList()));

        // What the project file leaves out, by id, with the setting that did it (for CMP0018): excluded plugins are
        // dropped before any other check, so their code is never called and a broken one does not fail the build.
        var excluded = new Dictionary<string, string>(StringComparer.Ordinal);
        bool IsExcluded(PluginModel plugin)
        {
            if (exclusions.ExcludedBy(plugin) is not { } setting)
            {
                return false;
            }

            excluded[plugin.Id] = setting;
            return true;
        }

        var candidates = new List<PluginModel>();
        foreach (var plugin in own)
        {
            // Own duplicates are reported by the analyzer; they already are not composable.
            if (!IsExcluded(plugin) && plugin.IsComposable)
            {
                candidates.Add(plugin with { AssemblyName = identity.AssemblyName, Version = identity.Version });
            }
        }

        var ownCount = candidates.Count;
        var hostLine = CompatibilityLine(references.ComposeAbstractionsVersion);
        foreach (var plugin in references.Plugins)
        {
            if (IsExcluded(plugin))
            {
                continue;
            }

            if (plugin.Errors.Count > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.InvalidReferencedPlugin, plugin.Id, plugin.DisplayTypeName, plugin.AssemblyName, string.Join(", ", plugin.Errors)));
                continue;
            }

            var pluginLine = CompatibilityLine(plugin.ComposeVersion);
            if (pluginLine is { } built && hostLine is { } host && built.CompareTo(host) > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.NewerComposeVersion, plugin.Id, plugin.AssemblyName, plugin.ComposeVersion!, references.ComposeAbstractionsVersion!));
                continue;
            }

            if (plugin.ManifestMismatch is { } mismatch)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.ManifestMismatch, plugin.Id, plugin.AssemblyName, mismatch.Claim, plugin.DisplayTypeName, mismatch.Actual));
                continue;
            }

            if (plugin.IsComposable)
            {
                candidates.Add(plugin);
            }
        }

        // Ids must be unique across the whole composition: the host's own plugins come first, then the packages'.
        var composed = new List<PluginModel>();
        foreach (var group in candidates.GroupBy(p => p.Id, StringComparer.Ordinal))
        {
            var members = group.ToList();
            if (members.Count == 1)
            {
                composed.Add(members[0]);
                continue;
            }

            // The first is the host's own plugin when there is one (own plugins come first).
            var first = members[0];
            foreach (var other in members.Skip(1))
            {
                diagnostics.Add(candidates.IndexOf(first) < ownCount
                    ? DiagnosticInfo.Create(ComposeDiagnostics.DuplicateOfReferencedPluginId, group.Key, first.DisplayTypeName, other.DisplayTypeName, other.AssemblyName)
                    : DiagnosticInfo.Create(ComposeDiagnostics.DuplicateReferencedPluginId, group.Key, first.DisplayTypeName, first.AssemblyName, other.DisplayTypeName, other.AssemblyName));
            }
        }

        var ordered = DependencyOrder(composed, excluded, diagnostics).ToEquatableArray();
        return new HostModel(true, ordered, diagnostics.ToImmutable().ToEquatableArray());
    }

    /// <summary>
    /// The composed plugins in dependency order (each after the plugins it depends on, ties by id, so the order is
    /// deterministic). A plugin with a dependency the host does not compose is CMP0018 and left out, with what depends
    /// on it (the message names the exclusion when the project file left the dependency out, from <paramref name="excluded"/>:
    /// id to setting); every cycle is CMP0019 once, listed in order from its smallest id, and left out with what depends on it.
    /// </summary>
    private static List<PluginModel> DependencyOrder(List<PluginModel> composed, IReadOnlyDictionary<string, string> excluded, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        var byId = composed.ToDictionary(p => p.Id, StringComparer.Ordinal);
        foreach (var plugin in composed.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            foreach (var dependency in plugin.DependsOn)
            {
                if (!byId.ContainsKey(dependency))
                {
                    diagnostics.Add(excluded.TryGetValue(dependency, out var setting)
                        ? DiagnosticInfo.Create(ComposeDiagnostics.ExcludedDependency, plugin.Id, plugin.DisplayTypeName, dependency, setting)
                        : DiagnosticInfo.Create(ComposeDiagnostics.MissingDependency, plugin.Id, plugin.DisplayTypeName, dependency));
                }
            }
        }

        // Kahn's algorithm over "depends on" edges, always taking the smallest ready id.
        var remaining = new Dictionary<string, int>(StringComparer.Ordinal);
        var dependents = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var plugin in composed)
        {
            remaining[plugin.Id] = plugin.DependsOn.Count;
            foreach (var dependency in plugin.DependsOn)
            {
                if (!dependents.TryGetValue(dependency, out var list))
                {
                    dependents[dependency] = list = new List<string>();
                }

                list.Add(plugin.Id);
            }
        }

        var ready = new SortedSet<string>(remaining.Where(r => r.Value == 0).Select(r => r.Key), StringComparer.Ordinal);
        var ordered = new List<PluginModel>(composed.Count);
        while (ready.Count > 0)
        {
            var next = ready.Min!;
            ready.Remove(next);
            remaining.Remove(next);
            ordered.Add(byId[next]);
            foreach (var dependent in dependents.TryGetValue(next, out var list) ? list : Enumerable.Empty<string>())
            {
                if (remaining.ContainsKey(dependent) && --remaining[dependent] == 0)
                {
                    ready.Add(dependent);
                }
            }
        }

        // What is left waits on a missing plugin or sits in (or behind) a cycle: report each cycle once.
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var handled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in remaining.Keys.OrderBy(id => id, StringComparer.Ordinal))
        {
            var path = new List<string>();
            var current = start;
            while (current is not null && handled.Add(current))
            {
                path.Add(current);
                current = byId[current].DependsOn.Where(remaining.ContainsKey).OrderBy(id => id, StringComparer.Ordinal).FirstOrDefault();
            }

            var from = current is null ? -1 : path.IndexOf(current);
            if (from < 0)
            {
                continue; // ran into a plugin already handled, or a missing dependency
            }

            var cycle = path.Skip(from).ToList();
            var smallest = cycle.IndexOf(cycle.OrderBy(id => id, StringComparer.Ordinal).First());
            cycle = cycle.Skip(smallest).Concat(cycle.Take(smallest)).ToList();
            if (reported.Add(string.Join(",", cycle)))
            {
                diagnostics.Add(DiagnosticInfo.Create(ComposeDiagnostics.DependencyCycle, string.Join(" -> ", cycle.Select(id => $"'{id}'").Concat(new[] { $"'{cycle[0]}'" }))));
            }
        }

        return ordered;
    }

    /// <summary>
    /// The part of a Compose version that may break the manifest: the major version, or for <c>0.x</c> the major and
    /// minor versions (semantic versioning lets a 0.x minor version break; docs/compatibility.md). Null when the version
    /// is missing or does not start with numbers.
    /// </summary>
    private static (int Major, int Minor)? CompatibilityLine(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return null;
        }

        var parts = version!.Split('.', '-', '+');
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major))
        {
            return null;
        }

        if (major > 0)
        {
            return (major, 0);
        }

        return parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor) ? (0, minor) : (0, 0);
    }
}
