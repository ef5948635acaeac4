function Invoke-BmsMigrationStep {
    <#
    .SYNOPSIS
    Carries out one policy step of the plan through Microsoft Graph (or shows what it would do).

    .DESCRIPTION
    Runs a step of the workspace's plan that is not a license wave, by the plan's step kind:
    pilot (create the converted Intune policies and assign them to the pilot group) and
    policy_gate (assign them to their recommended groups, which must be done before wave 1). Every Graph operation is recorded in the workspace
    journal, so a rerun resumes and never creates a policy twice. Needs Connect-BmsGraph first.

    It changes the tenant, so it asks for confirmation; -WhatIf (or -DryRun) asks the binary for a
    dry run instead and lists the planned operations. Unattended jobs pass -Confirm:$false.

    Outputs one Bms2Intune.MigrationAction per Graph operation.

    .PARAMETER Step
    The plan step's kind: pilot or policy_gate (plan.json "steps"). Accepts strings and objects
    with a Kind or Step property through the pipeline.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER DryRun
    Only list the operations; change nothing.

    .EXAMPLE
    Invoke-BmsMigrationStep -Workspace .\work -Step pilot -WhatIf

    Lists the Intune policies the pilot step would create and assign to the pilot group, without
    changing the tenant.

    .EXAMPLE
    Invoke-BmsMigrationStep -Workspace .\work -Step policy_gate -Confirm:$false

    Assigns the Intune policies to their recommended groups (the gate before wave 1) in a
    scheduled job.

    .INPUTS
    System.String, objects with a Kind or Step property.

    .OUTPUTS
    Bms2Intune.MigrationAction

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('Bms2Intune.MigrationAction')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Kind')]
        [ValidateSet('pilot', 'policy_gate')]
        [string] $Step,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $Workspace,

        [switch] $DryRun
    )
    process {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $dry = [bool]$DryRun
            if (-not $dry) {
                if (-not $PSCmdlet.ShouldProcess("step '$Step' of the plan in '$ws'", 'Change Intune policies through Microsoft Graph')) {
                    if ($WhatIfPreference) { $dry = $true } else { return }
                }
            }
            $params = [ordered]@{}
            $params['workspace'] = $ws
            $params['step'] = $Step
            $params['dry_run'] = $dry
            try {
                $result = Invoke-BmsRpc -Command 'apply' -Params $params
            } catch {
                throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature "Running plan step '$Step' through Microsoft Graph")
            }
            ConvertTo-BmsMigrationAction -Result $result -Step $Step
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
