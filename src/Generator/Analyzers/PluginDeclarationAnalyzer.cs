using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Compose.Generator.Analyzers;

/// <summary>
/// The per-plugin rules (CMP0001 to CMP0007, CMP0012, CMP0015 to CMP0017) on every <c>[ServerPlugin]</c> declaration, reported where
/// they are written: the id argument, the class identifier, the constructor or its parameter, the method
/// identifier. So <c>#pragma warning disable</c>, <c>.editorconfig</c> severities, IDE squiggles, code fixes and
/// <c>dotnet format</c> work on them. The rules themselves are <see cref="PluginRules"/>, which the generator uses
/// too: whatever the severity here, the manifest still records each broken error rule (CMP0010 in a host).
/// </summary>
[DiagnosticAnalyzer(Microsoft.CodeAnalysis.LanguageNames.CSharp)]
public sealed class PluginDeclarationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        ComposeDiagnostics.InvalidPluginId,
        ComposeDiagnostics.DuplicatePluginId,
        ComposeDiagnostics.PluginNotComposable,
        ComposeDiagnostics.MissingInterface,
        ComposeDiagnostics.NoPublicConstructor,
        ComposeDiagnostics.SeveralPublicConstructors,
        ComposeDiagnostics.UninjectableParameter,
        ComposeDiagnostics.ConfigureServicesParameterCount,
        ComposeDiagnostics.ConfigureServicesParametersSwapped,
        ComposeDiagnostics.ConfigureServicesParameterTypes,
        ComposeDiagnostics.ConfigureServicesNotStatic,
        ComposeDiagnostics.ConfigureServicesNotPublic,
        ComposeDiagnostics.ConfigureServicesReturnType,
        ComposeDiagnostics.ConfigureServicesGeneric,
        ComposeDiagnostics.NotAClass,
        ComposeDiagnostics.NearMissConfigureServices,
        ComposeDiagnostics.NearMissExitAsync,
        ComposeDiagnostics.InvalidDependencyId,
        ComposeDiagnostics.SelfDependency,
        ComposeDiagnostics.DuplicateDependency,
        ComposeDiagnostics.InvalidEnvironmentName);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(PluginRules.ServerPluginAttributeName);
            if (attributeType is null)
            {
                return; // The compilation does not reference Compose.Abstractions.
            }

            var ids = new ConcurrentBag<(string Id, string TypeName, Location Location)>();
            start.RegisterSymbolAction(symbol => Analyze(symbol, attributeType, ids), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end =>
            {
                foreach (var (first, duplicate) in PluginRules.Duplicates(ids, p => p.Id, p => p.TypeName))
                {
                    end.ReportDiagnostic(Diagnostic.Create(ComposeDiagnostics.DuplicatePluginId, duplicate.Location, duplicate.Id, first.TypeName, duplicate.TypeName));
                }
            });
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol attributeType, ConcurrentBag<(string, string, Location)> ids)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var attribute = type.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
        if (attribute is null)
        {
            return;
        }

        var cancellationToken = context.CancellationToken;
        if (PluginRules.CheckKind(type, attribute, cancellationToken) is { } notAClass)
        {
            context.ReportDiagnostic(notAClass.ToDiagnostic());
            return;
        }

        if (PluginRules.CheckId(type, attribute, cancellationToken) is { } invalidId)
        {
            context.ReportDiagnostic(invalidId.ToDiagnostic());
        }

        foreach (var violation in PluginRules.CheckDependsOn(type, attribute, cancellationToken).Concat(PluginRules.CheckEnvironments(type, attribute, cancellationToken)))
        {
            context.ReportDiagnostic(violation.ToDiagnostic());
        }

        if (PluginRules.IdOf(attribute) is { Length: > 0 } id)
        {
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var location = syntax?.ArgumentList?.Arguments.FirstOrDefault()?.Expression.GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None;
            ids.Add((id, PluginRules.Display(type), location));
        }

        foreach (var violation in PluginRules.CheckClass(type, context.Compilation, cancellationToken).Violations)
        {
            if (violation.Location.IsInSource)
            {
                context.ReportDiagnostic(violation.ToDiagnostic());
            }
        }
    }
}
