using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Compose.Generator.Analyzers;

/// <summary>
/// CMP0013: a route pattern in a server plugin that starts with the host's plugin prefix (<c>/api/plugins</c>).
/// The router a plugin gets is already its group <c>/api/plugins/{id}</c>, so such a route answers at
/// <c>/api/plugins/{id}/api/plugins/...</c>, which nobody calls. A plugin without routes is fine and never flagged.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class RoutePrefixAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The default prefix the host mounts plugins under (<c>Compose:RoutePrefix</c>).</summary>
    internal const string HostPrefix = "/api/plugins";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(ComposeDiagnostics.RoutePatternRepeatsPrefix);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(PluginRules.ServerPluginAttributeName);
            var routeBuilder = start.Compilation.GetTypeByMetadataName("Microsoft.AspNetCore.Routing.IEndpointRouteBuilder");
            if (attributeType is null || routeBuilder is null)
            {
                return;
            }

            start.RegisterOperationAction(operation => Analyze(operation, attributeType, routeBuilder), OperationKind.Invocation);
        });
    }

    /// <summary>
    /// The pattern to map instead of <paramref name="pattern"/>, when it starts with the host prefix: the prefix and,
    /// when it follows, the plugin's own id segment are removed (<c>/api/plugins/notes/list</c> → <c>/list</c>).
    /// </summary>
    internal static string? RelativePattern(string pattern, string? pluginId)
    {
        var trimmed = pattern.TrimStart('~').TrimStart('/');
        var prefix = HostPrefix.TrimStart('/');
        if (!trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || (trimmed.Length > prefix.Length && trimmed[prefix.Length] != '/'))
        {
            return null;
        }

        var rest = trimmed.Substring(prefix.Length).TrimStart('/');
        if (pluginId is { Length: > 0 })
        {
            if (string.Equals(rest, pluginId, StringComparison.OrdinalIgnoreCase))
            {
                rest = string.Empty;
            }
            else if (rest.StartsWith(pluginId + "/", StringComparison.OrdinalIgnoreCase))
            {
                rest = rest.Substring(pluginId.Length + 1);
            }
        }

        return "/" + rest;
    }

    private static void Analyze(OperationAnalysisContext context, INamedTypeSymbol attributeType, INamedTypeSymbol routeBuilder)
    {
        var invocation = (IInvocationOperation)context.Operation;
        if (!MapsOn(invocation, routeBuilder))
        {
            return;
        }

        var argument = invocation.Arguments.FirstOrDefault(a => a.Parameter is { Name: "pattern" or "prefix", Type.SpecialType: SpecialType.System_String });
        if (argument?.Value.ConstantValue is not { HasValue: true, Value: string pattern })
        {
            return;
        }

        var plugin = PluginOf(context.ContainingSymbol, attributeType, out var attribute);
        if (plugin is null)
        {
            return;
        }

        var id = PluginRules.IdOf(attribute!);
        var relative = RelativePattern(pattern, id);
        if (relative is null)
        {
            return;
        }

        var shownId = id is { Length: > 0 } ? id : "{id}";
        context.ReportDiagnostic(Diagnostic.Create(
            ComposeDiagnostics.RoutePatternRepeatsPrefix,
            argument.Value.Syntax.GetLocation(),
            ImmutableDictionary<string, string?>.Empty.Add(DiagnosticIds.RelativePatternProperty, relative),
            PluginRules.Display(plugin),
            pattern,
            shownId,
            "/" + pattern.TrimStart('~').TrimStart('/'),
            relative));
    }

    /// <summary>Whether the call maps on an endpoint route builder (MapGet, MapGroup, MapMethods...), as receiver or extension target.</summary>
    private static bool MapsOn(IInvocationOperation invocation, INamedTypeSymbol routeBuilder)
    {
        var method = invocation.TargetMethod;
        if (!method.Name.StartsWith("Map", StringComparison.Ordinal))
        {
            return false;
        }

        var target = method.IsExtensionMethod && method.Parameters.Length > 0 ? method.Parameters[0].Type : invocation.Instance?.Type;
        return target is not null
               && (SymbolEqualityComparer.Default.Equals(target, routeBuilder) || target.AllInterfaces.Contains(routeBuilder, SymbolEqualityComparer.Default));
    }

    private static INamedTypeSymbol? PluginOf(ISymbol symbol, INamedTypeSymbol attributeType, out AttributeData? attribute)
    {
        for (var type = symbol as INamedTypeSymbol ?? symbol.ContainingType; type is not null; type = type.ContainingType)
        {
            attribute = type.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
            if (attribute is not null)
            {
                return type;
            }
        }

        attribute = null;
        return null;
    }
}
