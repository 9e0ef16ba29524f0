using System.Collections.Immutable;
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
        var own = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                PluginParser.ServerPluginAttributeName,
                static (node, _) => node is BaseTypeDeclarationSyntax or DelegateDeclarationSyntax,
                static (syntax, cancellationToken) => PluginParser.ParseOwn(syntax, cancellationToken))
            .WithTrackingName(TrackingNames.OwnPlugins);

        context.RegisterSourceOutput(own, static (spc, result) =>
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        var assemblyName = context.CompilationProvider.Select(static (compilation, _) => compilation.AssemblyName ?? string.Empty);
        var webAssetsBase = context.AnalyzerConfigOptionsProvider
            .Combine(assemblyName)
            .Select(static (input, _) => WebAssetsBase(input.Left.GlobalOptions, input.Right));
        var ownPlugins = own
            .Select(static (result, _) => result.Plugin)
            .Collect()
            .Combine(assemblyName)
            .Combine(webAssetsBase)
            .Select(static (input, _) => Composition.OwnPlugins(input.Left.Left, input.Left.Right, input.Right))
            .WithTrackingName(TrackingNames.OwnPluginList);

        context.RegisterSourceOutput(ownPlugins, static (spc, plugins) =>
        {
            foreach (var diagnostic in plugins.Diagnostics)
            {
                spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            }

            if (plugins.Plugins.Count > 0)
            {
                spc.AddSource("Compose.Manifest.g.cs", SourceEmitter.EmitManifest(plugins.Plugins));
            }
        });

        var compilation = context.CompilationProvider
            .Select(static (compilation, cancellationToken) => PluginParser.ParseCompilation(compilation, cancellationToken))
            .WithTrackingName(TrackingNames.CompilationModel);

        var hostSetting = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => options.GlobalOptions.TryGetValue("build_property.ComposeHost", out var value) && bool.TryParse(value, out var isHost)
                ? isHost
                : (bool?)null)
            .WithTrackingName(TrackingNames.HostSetting);

        var host = ownPlugins
            .Combine(compilation)
            .Combine(hostSetting)
            .Select(static (input, _) => Composition.Host(input.Left.Left.Plugins, input.Left.Right, input.Right))
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

/// <summary>The own plugins of a compilation, in id order, with the diagnostics about them as a whole.</summary>
internal sealed record OwnPluginList(EquatableArray<PluginModel> Plugins, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>What the host emitter writes: the composable plugins in id order, or nothing.</summary>
internal sealed record HostModel(bool Emit, EquatableArray<PluginModel> Plugins, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>Combines plugin models into what is composed, and finds the rules that span plugins.</summary>
internal static class Composition
{
    public static OwnPluginList OwnPlugins(ImmutableArray<PluginModel?> parsed, string assemblyName, string webAssetsBase)
    {
        var plugins = parsed
            .Where(p => p is not null)
            .Select(p => p!.EntryScript is null ? p : p with { WebAssetsPath = webAssetsBase })
            .OrderBy(p => p.Id, StringComparer.Ordinal).ThenBy(p => p.DisplayTypeName, StringComparer.Ordinal).ToList();
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        for (var i = 0; i < plugins.Count; i++)
        {
            var first = plugins.FindIndex(p => p.Id == plugins[i].Id);
            if (first == i || plugins[i].Id.Length == 0)
            {
                continue;
            }

            diagnostics.Add(DiagnosticInfo.Create(
                ComposeDiagnostics.DuplicatePluginId,
                plugins[i].Location,
                plugins[i].Id,
                plugins[first].DisplayTypeName,
                assemblyName,
                plugins[i].DisplayTypeName,
                assemblyName));
            var duplicateId = ComposeDiagnostics.DuplicatePluginId.Id;
            foreach (var index in new[] { first, i })
            {
                if (!plugins[index].Errors.Contains(duplicateId))
                {
                    plugins[index] = plugins[index] with { IsComposable = false, Errors = plugins[index].Errors.Append(duplicateId).ToEquatableArray() };
                }
            }
        }

        return new OwnPluginList(plugins.ToEquatableArray(), diagnostics.ToImmutable().ToEquatableArray());
    }

    public static HostModel Host(EquatableArray<PluginModel> own, CompilationModel compilation, bool? hostSetting)
    {
        if (!compilation.ReferencesCompose || !(hostSetting ?? compilation.IsExecutable))
        {
            return new HostModel(false, EquatableArray<PluginModel>.Empty, EquatableArray<DiagnosticInfo>.Empty);
        }

        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        var candidates = new List<PluginModel>();
        foreach (var plugin in own)
        {
            if (plugin.IsComposable)
            {
                candidates.Add(plugin with { AssemblyName = compilation.AssemblyName, Version = compilation.Version });
            }
        }

        var hostMajor = Major(compilation.ComposeAbstractionsVersion);
        foreach (var plugin in compilation.ReferencedPlugins)
        {
            if (plugin.Errors.Count > 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.InvalidReferencedPlugin, null, plugin.Id, plugin.DisplayTypeName, plugin.AssemblyName, string.Join(", ", plugin.Errors)));
                continue;
            }

            var pluginMajor = Major(plugin.ComposeVersion);
            if (pluginMajor is not null && hostMajor is not null && pluginMajor > hostMajor)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.NewerComposeVersion, null, plugin.Id, plugin.AssemblyName, plugin.ComposeVersion!, compilation.ComposeAbstractionsVersion!));
                continue;
            }

            if (plugin.IsComposable)
            {
                candidates.Add(plugin);
            }
        }

        // Ids must be unique across the whole composition; duplicates among own plugins were reported by the plugin step.
        var composed = new List<PluginModel>();
        foreach (var group in candidates.GroupBy(p => p.Id, StringComparer.Ordinal))
        {
            var members = group.ToList();
            if (members.Count == 1)
            {
                composed.Add(members[0]);
                continue;
            }

            var first = members[0];
            foreach (var other in members.Skip(1))
            {
                var location = other.Location ?? first.Location;
                diagnostics.Add(DiagnosticInfo.Create(
                    ComposeDiagnostics.DuplicatePluginId, location, group.Key, first.DisplayTypeName, first.AssemblyName, other.DisplayTypeName, other.AssemblyName));
            }
        }

        var ordered = composed
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .Select(p => p with { Location = null })
            .ToEquatableArray();
        return new HostModel(true, ordered, diagnostics.ToImmutable().ToEquatableArray());
    }

    private static int? Major(string? version)
    {
        if (string.IsNullOrEmpty(version))
        {
            return null;
        }

        var dot = version!.IndexOf('.');
        return int.TryParse(dot < 0 ? version : version.Substring(0, dot), out var major) ? major : null;
    }
}
